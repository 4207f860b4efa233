package peer_test

import (
	"io"
	"net"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/wire"
)

// Hostile connections: wrong info-hash, silence, trickling. The engine is a leecher with an
// honest seeder, so each test also shows that the download goes on.

func TestHostileWrongInfoHashIncoming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tor := hostileTorrent(t, 40)
		hs := newHonestSwarm(t, tor, 512<<10)
		h := rawHostile(t, hs.nw, tor, hs.leecher.Addr, 1)
		other := metainfo.Hash{0xde, 0xad}
		go func() { _ = wire.WriteHandshake(h.nc, wire.Handshake{InfoHash: other, PeerID: h.id}) }()
		n, err := io.ReadFull(h.nc, make([]byte, wire.HandshakeLen))
		assert.Zero(t, n, "the engine must not answer a handshake for another torrent")
		assert.Error(t, err)
		synctest.Wait()
		assert.NotEmpty(t, hs.logs.find("incoming handshake failed", peer.ErrWrongInfoHash.Error()), hs.logs.dump())
		hs.finish(t)
	})
}

func TestHostileWrongInfoHashOutgoing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tor := hostileTorrent(t, 41)
		hs := newHonestSwarm(t, tor, 512<<10)
		l := hs.nw.Listen(hs.leecher.Addr.Addr())
		defer l.Close()
		hs.leecher.Swarm.AddPeers(netipAddr(t, l.Addr()))
		nc, err := l.Accept()
		require.NoError(t, err)
		h := newHostile(tor, nc, 1)
		defer nc.Close()
		_, err = wire.ReadHandshake(nc) // the dialer speaks first
		require.NoError(t, err)
		require.NoError(t, wire.WriteHandshake(nc, wire.Handshake{InfoHash: metainfo.Hash{0xde, 0xad}, PeerID: h.id}))
		_, err = h.awaitClosed(5 * time.Second)
		require.NoError(t, err, "the engine must hang up on a peer of another torrent")
		synctest.Wait()
		assert.NotEmpty(t, hs.logs.find("dial failed", peer.ErrWrongInfoHash.Error()), hs.logs.dump())
		hs.finish(t)
	})
}

func TestHostileSilent(t *testing.T) {
	tests := []struct {
		name      string
		handshake bool          // complete the handshake, then fall silent
		within    time.Duration // the deadline that must close it
	}{
		{"before the handshake", false, hHandshake},
		{"after the handshake", true, hIdle},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tor := hostileTorrent(t, 42)
				hs := newHonestSwarm(t, tor, 0)
				var h *hostilePeer
				if tc.handshake {
					h = dialHostile(t, hs.nw, tor, hs.leecher.Addr, 1)
				} else {
					h = rawHostile(t, hs.nw, tor, hs.leecher.Addr, 1)
				}
				elapsed, err := h.awaitClosed(10 * tc.within)
				require.NoError(t, err, "a silent peer must be closed")
				t.Logf("closed after %v", elapsed)
				assert.GreaterOrEqual(t, elapsed, tc.within-time.Millisecond)
				assert.LessOrEqual(t, elapsed, tc.within+time.Second)
			})
		})
	}
}

func TestHostileSilentListener(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tor := hostileTorrent(t, 43)
		hs := newHonestSwarm(t, tor, 512<<10)
		l := hs.nw.Listen(hs.leecher.Addr.Addr())
		defer l.Close()
		hs.leecher.Swarm.AddPeers(netipAddr(t, l.Addr()))
		nc, err := l.Accept()
		require.NoError(t, err)
		defer nc.Close()
		elapsed, err := newHostile(tor, nc, 1).awaitClosed(10 * hHandshake)
		require.NoError(t, err, "a dial to a peer that never answers must give up")
		assert.LessOrEqual(t, elapsed, hHandshake+time.Second)
		synctest.Wait()
		assert.NotEmpty(t, hs.logs.find("dial failed", "timeout"), hs.logs.dump())
		hs.finish(t)
	})
}

func TestHostileTrickle(t *testing.T) {
	tests := []struct {
		name      string
		handshake bool   // complete the handshake first
		stream    []byte // trickled one byte a second
		within    time.Duration
	}{
		{"handshake", false, wire.AppendHandshake(nil, wire.Handshake{PeerID: hostileID(1)}), hHandshake},
		{"request message", true, wire.AppendMessage(nil, wire.Message{ID: wire.Request, Index: 1, Length: wire.BlockSize}), hIdle},
		{"piece message", true, wire.AppendMessage(nil, wire.Message{ID: wire.Piece, Block: make([]byte, wire.BlockSize)}), hIdle},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tor := hostileTorrent(t, 44)
				hs := newHonestSwarm(t, tor, 512<<10)
				var h *hostilePeer
				if tc.handshake {
					h = dialHostile(t, hs.nw, tor, hs.leecher.Addr, 1)
				} else {
					h = rawHostile(t, hs.nw, tor, hs.leecher.Addr, 1)
					copy(tc.stream[28:48], tor.InfoHash[:])
				}
				stop := h.trickle(tc.stream, time.Second)
				elapsed, err := h.awaitClosed(10 * tc.within)
				stop()
				require.NoError(t, err, "a trickling peer must be closed")
				t.Logf("closed after %v", elapsed)
				assert.LessOrEqual(t, elapsed, tc.within+time.Second, "the deadline covers the whole message, not each byte")
				hs.finish(t)
			})
		})
	}
}

func netipAddr(t *testing.T, a net.Addr) netip.AddrPort {
	t.Helper()
	ta, ok := a.(*net.TCPAddr)
	require.True(t, ok, "address %v", a)
	return ta.AddrPort()
}

// trickle writes stream one byte every interval in the background, until the stream ends,
// a write fails or stop is called; stop waits for the writer to exit.
func (h *hostilePeer) trickle(stream []byte, every time.Duration) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for _, b := range stream {
			if h.sendRaw([]byte{b}) != nil {
				return
			}
			select {
			case <-time.After(every):
			case <-quit:
				return
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}
