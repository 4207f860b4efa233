package peer_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer/peertest"
	"github.com/swarm-bt/swarm/peer/wire"
)

func protoTorrent(t *testing.T) *peertest.Torrent {
	t.Helper()
	tor, err := peertest.NewTorrent("proto.bin", 100<<10+5, 32<<10, 9) // 4 pieces, the last of 4 KiB+5
	require.NoError(t, err)
	return tor
}

func TestHandshakeRefusals(t *testing.T) {
	tor := protoTorrent(t)
	tests := []struct {
		name     string
		infoHash func(seeder [20]byte) ([20]byte, [20]byte) // info-hash and peer ID to send
	}{
		{name: "wrong info-hash", infoHash: func([20]byte) ([20]byte, [20]byte) { return [20]byte{1}, rawID("a") }},
		{name: "our own peer ID", infoHash: func(own [20]byte) ([20]byte, [20]byte) { return tor.InfoHash, own }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				net := peertest.NewNetwork()
				seeder := bubbleNode(t, net, tor, peertest.Options{Seed: true})
				c, err := net.Dial(t.Context(), "tcp", seeder.Addr.String())
				require.NoError(t, err)
				ih, id := tc.infoHash(seeder.Swarm.PeerID())
				go func() { _ = wire.WriteHandshake(c, wire.Handshake{InfoHash: ih, PeerID: id}) }()
				_, err = wire.ReadHandshake(c)
				require.Error(t, err, "the engine answered a handshake it must refuse")
				require.NoError(t, seeder.Stop())
			})
		})
	}
}

func TestDuplicatePeerIDRefused(t *testing.T) {
	tor := protoTorrent(t)
	synctest.Test(t, func(t *testing.T) {
		net := peertest.NewNetwork()
		seeder := bubbleNode(t, net, tor, peertest.Options{Seed: true})
		first := dialRaw(t, net, tor, seeder.Addr.String(), rawID("dup"))
		first.expect(wire.BitfieldID)
		second := dialRaw(t, net, tor, seeder.Addr.String(), rawID("dup"))
		second.expectClosed()
		synctest.Wait()
		assert.Len(t, seeder.Swarm.Stats().Peers, 1)
		require.NoError(t, seeder.Stop())
	})
}

func TestSeederServesOnlyValidRequests(t *testing.T) {
	tor := protoTorrent(t)
	last := uint32(tor.Info.NumPieces() - 1)
	tests := []struct {
		name  string
		req   wire.Message
		valid bool
	}{
		{name: "first block", req: wire.Message{ID: wire.Request, Index: 0, Begin: 0, Length: wire.BlockSize}, valid: true},
		{name: "short last block", req: wire.Message{ID: wire.Request, Index: last, Begin: 0, Length: 4<<10 + 5}, valid: true},
		{name: "over 16 KiB", req: wire.Message{ID: wire.Request, Index: 0, Begin: 0, Length: wire.BlockSize + 1}},
		{name: "zero length", req: wire.Message{ID: wire.Request, Index: 0, Begin: 0, Length: 0}},
		{name: "past the piece end", req: wire.Message{ID: wire.Request, Index: 0, Begin: 20 << 10, Length: wire.BlockSize}},
		{name: "past the last piece end", req: wire.Message{ID: wire.Request, Index: last, Begin: 0, Length: 4<<10 + 6}},
		{name: "no such piece", req: wire.Message{ID: wire.Request, Index: last + 1, Begin: 0, Length: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				net := peertest.NewNetwork()
				seeder := bubbleNode(t, net, tor, peertest.Options{Seed: true})
				p := dialRaw(t, net, tor, seeder.Addr.String(), rawID("req"))
				p.expect(wire.BitfieldID)
				p.send(wire.Message{ID: wire.Interested})
				p.expect(wire.Unchoke)
				p.send(tc.req)
				if !tc.valid {
					p.expectClosed()
					require.NoError(t, seeder.Stop())
					return
				}
				m := p.expect(wire.Piece)
				off := int64(tc.req.Index)*tor.Info.PieceLength + int64(tc.req.Begin)
				assert.Equal(t, tor.Payload[off:off+int64(tc.req.Length)], m.Block)
				require.NoError(t, seeder.Stop())
			})
		})
	}
}

func TestRequestsWhileChokedAreIgnored(t *testing.T) {
	tor := protoTorrent(t)
	synctest.Test(t, func(t *testing.T) {
		net := peertest.NewNetwork()
		seeder := bubbleNode(t, net, tor, peertest.Options{Seed: true})
		p := dialRaw(t, net, tor, seeder.Addr.String(), rawID("choked"))
		p.expect(wire.BitfieldID)
		p.send(wire.Message{ID: wire.Request, Index: 0, Begin: 0, Length: wire.BlockSize})
		p.send(wire.Message{ID: wire.Interested})
		p.expect(wire.Unchoke)
		p.send(wire.Message{ID: wire.Request, Index: 1, Begin: 0, Length: wire.BlockSize})
		m := p.expect(wire.Piece)
		assert.Equal(t, uint32(1), m.Index, "the request sent while choked was served")
		require.NoError(t, seeder.Stop())
	})
}

// rawSeeder connects a scripted seeder to a fresh leecher engine and returns it unchoked, with
// the leecher's first requests.
func rawSeeder(t *testing.T, net *peertest.Network, tor *peertest.Torrent, leecher *peertest.Node) (*rawPeer, []wire.Message) {
	t.Helper()
	p := dialRaw(t, net, tor, leecher.Addr.String(), rawID("seed"))
	p.send(wire.Message{ID: wire.BitfieldID, Bitfield: fullHave(tor).Bytes()})
	p.expect(wire.Interested)
	p.send(wire.Message{ID: wire.Unchoke})
	var reqs []wire.Message
	for len(reqs) < 4*int(tor.Info.PieceLength/wire.BlockSize)-1 { // every block of the torrent
		reqs = append(reqs, p.expect(wire.Request))
	}
	return p, reqs
}

func TestLeecherRequestsEveryBlockAndVerifies(t *testing.T) {
	tor := protoTorrent(t)
	synctest.Test(t, func(t *testing.T) {
		net := peertest.NewNetwork()
		leecher := bubbleNode(t, net, tor, peertest.Options{})
		p, reqs := rawSeeder(t, net, tor, leecher)
		for _, r := range reqs {
			off := int64(r.Index)*tor.Info.PieceLength + int64(r.Begin)
			p.send(wire.Message{ID: wire.Piece, Index: r.Index, Begin: r.Begin, Block: tor.Payload[off : off+int64(r.Length)]})
		}
		awaitComplete(t, leecher, 10*time.Minute)
		require.NoError(t, tor.Compare(leecher.Storage))
		// Now both sides are seeds: nothing to trade, the engine hangs up (it sends no haves to a
		// peer that has the piece).
		for {
			m, err := p.next()
			if err != nil {
				break
			}
			assert.NotEqual(t, wire.Have, m.ID)
		}
		assert.Empty(t, leecher.Swarm.Stats().Peers)
		require.NoError(t, leecher.Stop())
	})
}

func TestUnrequestedBlockClosesConnection(t *testing.T) {
	tor := protoTorrent(t)
	synctest.Test(t, func(t *testing.T) {
		net := peertest.NewNetwork()
		leecher := bubbleNode(t, net, tor, peertest.Options{})
		p := dialRaw(t, net, tor, leecher.Addr.String(), rawID("spam"))
		p.send(wire.Message{ID: wire.BitfieldID, Bitfield: fullHave(tor).Bytes()})
		p.expect(wire.Interested)
		p.send(wire.Message{ID: wire.Piece, Index: 0, Begin: 0, Block: tor.Payload[:wire.BlockSize]})
		p.expectClosed()
		require.NoError(t, leecher.Stop())
	})
}

// TestLaterBitfieldAddsPieces: aria2 1.36 announces new pieces with a whole bitfield in the
// middle of a connection; the engine takes it as haves instead of hanging up.
func TestLaterBitfieldAddsPieces(t *testing.T) {
	tor := protoTorrent(t)
	synctest.Test(t, func(t *testing.T) {
		net := peertest.NewNetwork()
		leecher := bubbleNode(t, net, tor, peertest.Options{})
		p := dialRaw(t, net, tor, leecher.Addr.String(), rawID("aria"))
		p.send(wire.Message{ID: wire.Have, Index: 1})
		p.expect(wire.Interested)
		p.send(wire.Message{ID: wire.Unchoke})
		pieces := map[uint32]bool{}
		for range 2 { // piece 1 has two blocks
			pieces[p.expect(wire.Request).Index] = true
		}
		assert.Equal(t, map[uint32]bool{1: true}, pieces)
		p.send(wire.Message{ID: wire.BitfieldID, Bitfield: fullHave(tor).Bytes()})
		for len(pieces) < tor.Info.NumPieces() {
			pieces[p.expect(wire.Request).Index] = true
		}
		assert.Len(t, leecher.Swarm.Stats().Peers, 1)
		require.NoError(t, leecher.Stop())
	})
}

func TestChokeAndTimeoutReleaseRequests(t *testing.T) {
	tor := protoTorrent(t)
	synctest.Test(t, func(t *testing.T) {
		net := peertest.NewNetwork()
		leecher := bubbleNode(t, net, tor, peertest.Options{})
		p, reqs := rawSeeder(t, net, tor, leecher)
		// Choke: the requests are dropped; after an unchoke they come again.
		p.send(wire.Message{ID: wire.Choke})
		synctest.Wait()
		p.send(wire.Message{ID: wire.Unchoke})
		again := map[[3]uint32]bool{}
		for len(again) < len(reqs) {
			r := p.expect(wire.Request)
			again[[3]uint32{r.Index, r.Begin, r.Length}] = true
		}
		for _, r := range reqs {
			assert.True(t, again[[3]uint32{r.Index, r.Begin, r.Length}], "request %+v not renewed after the choke", r)
		}
		// Silence: after the request timeout (60 s) the leecher cancels.
		start := time.Now()
		c := p.expect(wire.Cancel)
		assert.GreaterOrEqual(t, time.Since(start), 59*time.Second)
		assert.True(t, again[[3]uint32{c.Index, c.Begin, c.Length}])
		synctest.Wait()
		assert.True(t, leecher.Swarm.Stats().Peers[0].Snubbed)
		// A block that was cancelled still arriving is tolerated.
		off := int64(c.Index)*tor.Info.PieceLength + int64(c.Begin)
		p.send(wire.Message{ID: wire.Piece, Index: c.Index, Begin: c.Begin, Block: tor.Payload[off : off+int64(c.Length)]})
		synctest.Wait()
		assert.Len(t, leecher.Swarm.Stats().Peers, 1)
		require.NoError(t, leecher.Stop())
	})
}

func TestKeepAliveSentWhenIdle(t *testing.T) {
	tor := protoTorrent(t)
	synctest.Test(t, func(t *testing.T) {
		net := peertest.NewNetwork()
		seeder := bubbleNode(t, net, tor, peertest.Options{Seed: true})
		p := dialRaw(t, net, tor, seeder.Addr.String(), rawID("idle"))
		p.expect(wire.BitfieldID)
		start := time.Now()
		_ = p.c.SetReadDeadline(time.Now().Add(2 * time.Minute))
		m, err := p.r.ReadMessage()
		require.NoError(t, err)
		assert.True(t, m.KeepAlive)
		assert.Equal(t, 90*time.Second, time.Since(start))
		require.NoError(t, seeder.Stop())
	})
}
