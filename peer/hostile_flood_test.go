package peer_test

import (
	"encoding/binary"
	"runtime"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer/peertest"
	"github.com/swarm-bt/swarm/peer/wire"
)

// totalAlloc is the bytes allocated by the process so far.
func totalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

func TestHostileHugeMessageLength(t *testing.T) {
	tests := []struct {
		name string
		n    uint32
		id   wire.ID
	}{
		{"4 GiB piece", 1<<32 - 1, wire.Piece},
		{"4 GiB bitfield", 1<<32 - 1, wire.BitfieldID},
		{"4 GiB extended", 1<<32 - 1, wire.Extended},
		{"2 GiB unknown id", 1 << 31, 99},
		{"one byte over a block", 9 + wire.BlockSize + 1, wire.Piece},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tor := hostileTorrent(t, 30)
				logs := newRecorder()
				nw := peertest.NewNetwork()
				leecher := hNode(t, nw, tor, peertest.Options{Logger: logs.logger()})
				h := dialHostile(t, nw, tor, leecher.Addr, 1)
				synctest.Wait()
				before := totalAlloc()
				hdr := binary.BigEndian.AppendUint32(nil, tc.n)
				go func() { // the rest of the "message", for as long as the engine reads
					_ = h.sendRaw(append(hdr, byte(tc.id)))
					for h.sendRaw(make([]byte, 64<<10)) == nil {
					}
				}()
				elapsed, err := h.awaitClosed(5 * time.Second)
				require.NoError(t, err, "the engine must close the connection")
				synctest.Wait()
				grown := int64(totalAlloc() - before)
				t.Logf("allocated %d bytes while refusing the message; closed after %v", grown, elapsed)
				assert.Less(t, elapsed, time.Second, "closed at once")
				assert.Less(t, grown, int64(1<<20), "nothing sized by the peer may be allocated")
				assert.NotEmpty(t, logs.find("peer dropped", "exceeds the limit"), logs.dump())
			})
		})
	}
}

// hostileLeecher dials the seeder, declares interest and waits to be unchoked.
func hostileLeecher(t *testing.T, nw *peertest.Network, tor *peertest.Torrent, seeder *peertest.Node, n byte) *hostilePeer {
	t.Helper()
	h := dialHostile(t, nw, tor, seeder.Addr, n)
	require.NoError(t, h.send(wire.Message{ID: wire.Interested}))
	for {
		m, err := h.r.ReadMessage()
		require.NoError(t, err, "the seeder must unchoke an interested peer with a free slot")
		if m.ID == wire.Unchoke {
			return h
		}
	}
}

func TestHostileRequestOutOfRange(t *testing.T) {
	const pieces, pieceLen = 32, 32 << 10 // hostileTorrent
	tests := []struct {
		name   string
		req    wire.Message
		reason string
	}{
		{"piece past the end", wire.Message{Index: pieces, Length: wire.BlockSize}, "request for piece 32"},
		{"huge piece index", wire.Message{Index: 1<<32 - 1, Length: wire.BlockSize}, "request for piece"},
		{"past the piece's end", wire.Message{Index: 1, Begin: pieceLen - 100, Length: wire.BlockSize}, "request of 16384 bytes"},
		{"huge begin", wire.Message{Index: 1, Begin: 1<<32 - 1, Length: 1}, "request of 1 bytes"},
		{"over 16 KiB", wire.Message{Index: 1, Length: wire.BlockSize + 1}, "request of 16385 bytes"},
		{"4 GiB length", wire.Message{Index: 1, Length: 1<<32 - 1}, "request of 4294967295 bytes"},
		{"zero length", wire.Message{Index: 1, Length: 0}, "request of 0 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tor := hostileTorrent(t, 31)
				logs := newRecorder()
				nw := peertest.NewNetwork()
				seeder := hNode(t, nw, tor, peertest.Options{Seed: true, Logger: logs.logger()})
				h := hostileLeecher(t, nw, tor, seeder, 1)
				tc.req.ID = wire.Request
				require.NoError(t, h.send(tc.req))
				elapsed, err := h.awaitClosed(5 * time.Second)
				require.NoError(t, err, "the engine must close the connection")
				assert.Less(t, elapsed, time.Second, "closed at once")
				synctest.Wait()
				assert.NotEmpty(t, logs.find("peer dropped", tc.reason), logs.dump())
				assert.Zero(t, seeder.Swarm.Stats().Uploaded, "nothing may be served")
			})
		})
	}
}

// TestHostileRequestFloodNotReading: a peer that floods valid and duplicate requests and never
// reads is dropped once its queue is full; memory stays bounded and an honest leecher of the
// same seeder completes meanwhile.
func TestHostileRequestFloodNotReading(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tor := hostileTorrent(t, 32)
		logs := newRecorder()
		nw := peertest.NewNetwork()
		seeder := hNode(t, nw, tor, peertest.Options{Seed: true, Logger: logs.logger()})
		h := hostileLeecher(t, nw, tor, seeder, 1)
		synctest.Wait()
		before := totalAlloc()
		sent := make(chan int)
		go func() {
			n := 0
			for ; n < 100_000; n++ { // stops when the engine closes the connection
				i := uint32(n % 4) // duplicates of the same few blocks
				if h.send(wire.Message{ID: wire.Request, Index: i, Begin: 0, Length: wire.BlockSize}) != nil {
					break
				}
			}
			sent <- n
		}()
		var n int
		select {
		case n = <-sent:
		case <-time.After(time.Minute):
			t.Fatal("the engine still reads requests from a peer that reads nothing")
		}
		synctest.Wait()
		grown := int64(totalAlloc() - before)
		t.Logf("dropped after %d requests; the seeder allocated %d bytes meanwhile", n, grown)
		assert.Less(t, n, 100_000)
		assert.Less(t, grown, int64(8<<20), "what is queued for the peer must be bounded")
		assert.NotEmpty(t, logs.find("peer dropped", "queue"), logs.dump())

		honest := hNode(t, nw, tor, peertest.Options{})
		honest.Swarm.AddPeers(seeder.Addr)
		awaitComplete(t, honest, time.Minute)
		require.NoError(t, tor.Compare(honest.Storage))
	})
}

// TestHostileStalledReaderKeepsAlive: a peer that requests blocks, never reads them and sends
// keep-alives so that it never looks idle must still be dropped: otherwise it pins a
// connection and an upload slot (and a blocked writer goroutine) for ever.
func TestHostileStalledReaderKeepsAlive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tor := hostileTorrent(t, 33)
		nw := peertest.NewNetwork()
		logs := newRecorder()
		seeder := hNode(t, nw, tor, peertest.Options{Seed: true, Logger: logs.logger()})
		h := hostileLeecher(t, nw, tor, seeder, 1)
		for i := range 8 {
			require.NoError(t, h.send(wire.Message{ID: wire.Request, Index: uint32(i), Length: wire.BlockSize}))
		}
		start := time.Now()
		closed := make(chan struct{})
		go func() {
			defer close(closed)
			for h.send(wire.Message{KeepAlive: true}) == nil {
				time.Sleep(hIdle / 4)
			}
		}()
		select {
		case <-closed:
			took := time.Since(start)
			synctest.Wait()
			t.Logf("dropped after %v: %s", took, logs.find("peer dropped"))
			assert.LessOrEqual(t, took, 2*hIdle)
			assert.NotEmpty(t, logs.find("peer dropped", "timeout"), logs.dump())
		case <-time.After(10 * hIdle):
			_ = h.nc.Close()
			<-closed
			t.Errorf("a peer that reads nothing is still connected after %v", 10*hIdle)
		}
	})
}

// TestHostileDuplicateRequests: hundreds of copies of one request from a peer that reads are
// served with correct data (or ignored while a copy is still queued: at most once per copy
// sent after the previous one was served), never with garbage, and the seeder keeps serving
// an honest leecher.
func TestHostileDuplicateRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tor := hostileTorrent(t, 34)
		nw := peertest.NewNetwork()
		seeder := hNode(t, nw, tor, peertest.Options{Seed: true})
		h := hostileLeecher(t, nw, tor, seeder, 1)
		req := wire.Message{ID: wire.Request, Index: 5, Begin: wire.BlockSize, Length: wire.BlockSize}
		go func() {
			for range 500 {
				if h.send(req) != nil {
					return
				}
			}
		}()
		honest := hNode(t, nw, tor, peertest.Options{})
		honest.Swarm.AddPeers(seeder.Addr)
		want := h.block(req)
		got := 0
		require.NoError(t, h.nc.SetReadDeadline(time.Now().Add(30*time.Second)))
		for got < 500 {
			m, err := h.r.ReadMessage()
			if err != nil {
				break
			}
			if m.ID == wire.Piece {
				require.Equal(t, want, m.Block, "block %d+%d of piece %d", m.Begin, len(m.Block), m.Index)
				got++
			}
		}
		t.Logf("%d of 500 duplicate requests served", got)
		awaitComplete(t, honest, time.Minute)
		require.NoError(t, tor.Compare(honest.Storage))
	})
}
