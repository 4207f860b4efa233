package peer_test

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer/peertest"
	"github.com/swarm-bt/swarm/peer/wire"
)

// rawPeer is a scripted remote peer speaking the wire protocol by hand.
type rawPeer struct {
	t  *testing.T
	c  net.Conn
	r  *wire.Reader
	id [20]byte
}

// dialRaw connects to addr and shakes hands as id for infoHash.
func dialRaw(t *testing.T, n *peertest.Network, tor *peertest.Torrent, addr string, id [20]byte) *rawPeer {
	t.Helper()
	c, err := n.Dial(t.Context(), "tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	p := &rawPeer{t: t, c: c, id: id, r: wire.NewReader(c, wire.Limits{NumPieces: tor.Info.NumPieces()})}
	require.NoError(t, wire.WriteHandshake(c, wire.Handshake{InfoHash: tor.InfoHash, PeerID: id}))
	hs, err := wire.ReadHandshake(c)
	require.NoError(t, err)
	require.Equal(t, [20]byte(tor.InfoHash), hs.InfoHash)
	return p
}

func rawID(s string) [20]byte {
	var id [20]byte
	copy(id[:], "-XX0001-"+s)
	return id
}

func (p *rawPeer) send(m wire.Message) {
	p.t.Helper()
	_, err := p.c.Write(wire.AppendMessage(nil, m))
	require.NoError(p.t, err)
}

// next returns the next message other than a keep-alive, or the read error.
func (p *rawPeer) next() (wire.Message, error) {
	for {
		_ = p.c.SetReadDeadline(time.Now().Add(5 * time.Minute))
		m, err := p.r.ReadMessage()
		if err != nil || !m.KeepAlive {
			return m, err
		}
	}
}

// expect reads until a message with id arrives and returns it.
func (p *rawPeer) expect(id wire.ID) wire.Message {
	p.t.Helper()
	for {
		m, err := p.next()
		require.NoError(p.t, err, "waiting for %v", id)
		if m.ID == id {
			return m
		}
	}
}

// expectClosed reads until the engine closes the connection.
func (p *rawPeer) expectClosed() {
	p.t.Helper()
	for {
		_, err := p.next()
		if err != nil {
			require.False(p.t, errors.Is(err, os.ErrDeadlineExceeded), "connection still open")
			require.True(p.t, errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) || errors.Is(err, net.ErrClosed), "got %v", err)
			return
		}
	}
}
