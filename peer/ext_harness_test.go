package peer_test

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer/peertest"
	"github.com/swarm-bt/swarm/peer/wire"
)

// This file is the harness of the extension tests: a scripted peer that speaks BEP 10 (and
// BEP 6) by hand, as a client of an engine or as a metadata server for FetchMetadata.

var extReserved = wire.Reserved{}.Set(wire.ExtensionByte, wire.ExtensionBit).Set(wire.FastByte, wire.FastBit)

// dialExt connects to an engine at addr with the BEP 10 and BEP 6 bits set.
func dialExt(t *testing.T, nw *peertest.Network, tor *peertest.Torrent, addr netip.AddrPort, id [20]byte) *rawPeer {
	t.Helper()
	c, err := nw.Dial(t.Context(), "tcp", addr.String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	p := &rawPeer{t: t, c: c, id: id, r: wire.NewReader(c, wire.Limits{NumPieces: tor.Info.NumPieces()})}
	require.NoError(t, wire.WriteHandshake(c, wire.Handshake{Reserved: extReserved, InfoHash: tor.InfoHash, PeerID: id}))
	hs, err := wire.ReadHandshake(c)
	require.NoError(t, err)
	require.True(t, hs.Reserved.Has(wire.ExtensionByte, wire.ExtensionBit), "the engine sets the BEP 10 bit")
	require.True(t, hs.Reserved.Has(wire.FastByte, wire.FastBit), "the engine sets the BEP 6 bit")
	return p
}

// sendExt sends an extended message.
func (p *rawPeer) sendExt(id uint8, payload []byte) {
	p.t.Helper()
	p.send(wire.Message{ID: wire.Extended, ExtID: id, Payload: payload})
}

// trySendExt sends an extended message from a goroutine other than the test's: a write
// error (the engine closed the connection) is the caller's to observe.
func (p *rawPeer) trySendExt(id uint8, payload []byte) {
	_, _ = p.c.Write(wire.AppendMessage(nil, wire.Message{ID: wire.Extended, ExtID: id, Payload: payload}))
}

// expectExt reads until an extended message with ext id arrives.
func (p *rawPeer) expectExt(id uint8) []byte {
	p.t.Helper()
	for {
		m := p.expect(wire.Extended)
		if m.ExtID == id {
			return m.Payload
		}
	}
}

// metaBehaviour is how a scripted metadata server answers requests.
type metaBehaviour int

const (
	metaHonest metaBehaviour = iota
	metaLiar                 // right sizes, wrong bytes
	metaSilent               // never answers
	metaHuge                 // announces a metadata_size of 2^40
	metaLate                 // honest, but its extension handshake comes 3 s late
)

// serveMetadata runs a scripted peer on nw that offers tor's metadata (or lies about it)
// and returns its address. It serves every connection until the test ends.
func serveMetadata(t *testing.T, nw *peertest.Network, tor *peertest.Torrent, b metaBehaviour) netip.AddrPort {
	t.Helper()
	l := nw.Listen(netip.MustParseAddr("127.0.0.9"))
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go metaConn(c, tor, b)
		}
	}()
	return netip.MustParseAddrPort(l.Addr().String())
}

func metaConn(c net.Conn, tor *peertest.Torrent, b metaBehaviour) {
	defer c.Close()
	info := tor.Meta.InfoBytes
	if _, err := wire.ReadHandshake(c); err != nil {
		return
	}
	if wire.WriteHandshake(c, wire.Handshake{Reserved: extReserved, InfoHash: tor.InfoHash, PeerID: rawID("meta")}) != nil {
		return
	}
	size := int64(len(info))
	if b == metaHuge {
		size = 1 << 40
	}
	hs := wire.ExtHandshake{M: map[string]int{wire.ExtMetadata: 2}, MetadataSize: size, V: "scripted 1.0"}
	out := make(chan []byte, 64) // writes go through a goroutine: net.Pipe has no buffer
	defer close(out)
	go func() {
		for b := range out {
			_ = c.SetWriteDeadline(time.Now().Add(time.Minute))
			if _, err := c.Write(b); err != nil {
				_ = c.Close()
			}
		}
	}()
	write := func(m wire.Message) bool {
		select {
		case out <- wire.AppendMessage(nil, m):
			return true
		default:
			return false
		}
	}
	if b == metaLate {
		time.Sleep(3 * time.Second)
	}
	write(wire.Message{ID: wire.HaveAll})
	write(wire.Message{ID: wire.Extended, Payload: hs.Marshal()})
	r := wire.NewReader(c, wire.Limits{NumPieces: tor.Info.NumPieces()})
	var theirs int
	for {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Minute))
		m, err := r.ReadMessage()
		if err != nil {
			return
		}
		if m.ID != wire.Extended {
			continue
		}
		if m.ExtID == 0 {
			h, err := wire.ParseExtHandshake(m.Payload)
			if err != nil {
				return
			}
			theirs = h.M[wire.ExtMetadata]
			continue
		}
		req, err := wire.ParseMetadataMsg(m.Payload)
		if err != nil || req.Type != wire.MetadataRequest || b == metaSilent {
			continue
		}
		start := req.Piece * wire.MetadataPieceSize
		end := min(len(info), start+wire.MetadataPieceSize)
		data := append([]byte(nil), info[start:end]...)
		if b == metaLiar {
			for i := range data {
				data[i] ^= 0x5a
			}
		}
		msg := wire.MetadataMsg{Type: wire.MetadataData, Piece: req.Piece, TotalSize: int64(len(info)), Data: data}
		if !write(wire.Message{ID: wire.Extended, ExtID: uint8(theirs), Payload: msg.Marshal()}) {
			return
		}
	}
}
