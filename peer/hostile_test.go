package peer_test

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/bitfield"
	"github.com/swarm-bt/swarm/peer/peertest"
	"github.com/swarm-bt/swarm/peer/wire"
)

// The hostile-peer tests: one misbehaviour per test, each against a leecher (or a seeder)
// running in a synctest bubble over the in-memory network, so deadlines fire in fake time.
// docs/reliability.md lists them.

// hostileTorrent is 1 MiB in 32 pieces of 32 KiB (two blocks each).
func hostileTorrent(t *testing.T, seed uint64) *peertest.Torrent {
	t.Helper()
	tor, err := peertest.NewTorrent("hostile.bin", 1<<20, 32<<10, seed)
	require.NoError(t, err)
	return tor
}

// honestSwarm is a leecher whose logs are recorded and, if slow > 0, an honest seeder
// uploading slow bytes per second that the leecher knows.
type honestSwarm struct {
	nw      *peertest.Network
	tor     *peertest.Torrent
	leecher *peertest.Node
	seeder  *peertest.Node
	logs    *recorder
}

func newHonestSwarm(t *testing.T, tor *peertest.Torrent, slow rate.Limit) *honestSwarm {
	t.Helper()
	hs := &honestSwarm{nw: peertest.NewNetwork(), tor: tor, logs: newRecorder()}
	hs.leecher = hNode(t, hs.nw, tor, peertest.Options{Logger: hs.logs.logger(), Configure: configure(seeded(1))})
	if slow > 0 {
		hs.addSeeder(t, slow)
	}
	return hs
}

// addSeeder starts the honest seeder and tells the leecher its address.
func (hs *honestSwarm) addSeeder(t *testing.T, bps rate.Limit) {
	t.Helper()
	hs.seeder = hNode(t, hs.nw, hs.tor, peertest.Options{Seed: true, Configure: configure(uploadLimit(bps), seeded(2))})
	hs.leecher.Swarm.AddPeers(hs.seeder.Addr)
}

// finish waits for the leecher to complete and checks its bytes.
func (hs *honestSwarm) finish(t *testing.T) {
	t.Helper()
	awaitComplete(t, hs.leecher, 2*time.Minute)
	require.NoError(t, hs.tor.Compare(hs.leecher.Storage))
}

// onlySeederConnected checks that the scripted peers are gone.
func (hs *honestSwarm) onlySeederConnected(t *testing.T) {
	t.Helper()
	for _, p := range hs.leecher.Swarm.Stats().Peers {
		assert.Equal(t, hs.seeder.Addr, p.Addr, "a hostile peer is still connected")
	}
}

// garbage is a block of the right size and the wrong content.
func garbage(m wire.Message) []byte {
	b := make([]byte, m.Length)
	for i := range b {
		b[i] = byte(i*7 + int(m.Index))
	}
	return b
}

func TestHostileCorruptBlocksBannedThenHonestCompletes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tor := hostileTorrent(t, 10)
		hs := newHonestSwarm(t, tor, 0)
		h := dialHostile(t, hs.nw, tor, hs.leecher.Addr, 1)
		require.NoError(t, h.send(bitfieldMsg(fullHave(tor)), wire.Message{ID: wire.Unchoke}))
		requests := h.serve(garbage) // returns when the leecher closes the connection
		assert.Positive(t, requests)
		synctest.Wait()
		assert.NotEmpty(t, hs.logs.find("peer banned", "sent corrupt data"), hs.logs.dump())
		assert.Positive(t, hs.leecher.Swarm.Stats().FailedPieces)
		assert.Zero(t, hs.leecher.Swarm.Stats().Have, "no garbage piece may pass")
		// The failed pieces were kept in memory and dropped: none of the garbage was written.
		got := make([]byte, len(tor.Payload))
		_, rerr := hs.leecher.Storage.ReadAt(got, 0)
		require.NoError(t, rerr)
		assert.Equal(t, make([]byte, len(got)), got, "garbage reached the storage")

		// The banned peer comes back with the same peer ID: refused right after the handshake.
		again := dialHostile(t, hs.nw, tor, hs.leecher.Addr, 1)
		_, err := again.awaitClosed(time.Second)
		require.NoError(t, err, "a banned peer must be refused")

		hs.addSeeder(t, 0)
		hs.finish(t)
		hs.onlySeederConnected(t)
	})
}

func TestHostileCorruptBlocksAlongsideHonestSeeder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tor := hostileTorrent(t, 11)
		hs := newHonestSwarm(t, tor, 256<<10)
		h := dialHostile(t, hs.nw, tor, hs.leecher.Addr, 1)
		require.NoError(t, h.send(bitfieldMsg(fullHave(tor)), wire.Message{ID: wire.Unchoke}))
		go h.serve(garbage)
		hs.finish(t)
		synctest.Wait()
		assert.NotEmpty(t, hs.logs.find("peer banned", "sent corrupt data"), hs.logs.dump())
		assert.Empty(t, hs.logs.find("peer banned", hs.seeder.Addr.String()), "the honest seeder must not be banned")
		hs.onlySeederConnected(t)
	})
}

func TestHostileUnrequestedBlock(t *testing.T) {
	tests := []struct {
		name   string
		unchok bool                              // unchoke, then answer the first request wrongly
		answer func(m wire.Message) wire.Message // the block sent
	}{
		{"never requested", false, func(wire.Message) wire.Message {
			return wire.Message{ID: wire.Piece, Index: 3, Begin: 0, Block: make([]byte, wire.BlockSize)}
		}},
		{"other offset", true, func(m wire.Message) wire.Message {
			return wire.Message{ID: wire.Piece, Index: m.Index, Begin: m.Begin + 1, Block: make([]byte, m.Length-1)}
		}},
		{"shorter than requested", true, func(m wire.Message) wire.Message {
			return wire.Message{ID: wire.Piece, Index: m.Index, Begin: m.Begin, Block: make([]byte, m.Length/2)}
		}},
		{"unaligned", true, func(m wire.Message) wire.Message {
			return wire.Message{ID: wire.Piece, Index: m.Index, Begin: m.Begin + 100, Block: make([]byte, 100)}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tor := hostileTorrent(t, 12)
				hs := newHonestSwarm(t, tor, 512<<10)
				h := dialHostile(t, hs.nw, tor, hs.leecher.Addr, 1)
				require.NoError(t, h.send(bitfieldMsg(fullHave(tor))))
				req := wire.Message{Index: 3, Length: wire.BlockSize}
				if tc.unchok {
					require.NoError(t, h.send(wire.Message{ID: wire.Unchoke}))
					req = h.nextRequest(t)
				}
				_ = h.send(tc.answer(req))
				_, err := h.awaitClosed(5 * time.Second)
				require.NoError(t, err, "a block that was not requested must close the connection")
				synctest.Wait()
				assert.NotEmpty(t, hs.logs.find("peer dropped", "was not requested"), hs.logs.dump())
				hs.finish(t)
			})
		})
	}
}

// nextRequest reads until the engine sends a request.
func (h *hostilePeer) nextRequest(t *testing.T) wire.Message {
	t.Helper()
	for {
		m, err := h.r.ReadMessage()
		require.NoError(t, err)
		if m.ID == wire.Request {
			return m
		}
	}
}

func TestHostileClaimsPiecesItLacks(t *testing.T) {
	tests := []struct {
		name  string
		claim func(tor *peertest.Torrent) []wire.Message
	}{
		{"full bitfield", func(tor *peertest.Torrent) []wire.Message {
			return []wire.Message{bitfieldMsg(fullHave(tor))}
		}},
		{"haves", func(tor *peertest.Torrent) []wire.Message {
			var ms []wire.Message
			for i := range tor.Info.NumPieces() {
				ms = append(ms, wire.Message{ID: wire.Have, Index: uint32(i)})
			}
			return ms
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tor := hostileTorrent(t, 13)
				hs := newHonestSwarm(t, tor, 512<<10)
				h := dialHostile(t, hs.nw, tor, hs.leecher.Addr, 1)
				require.NoError(t, h.send(tc.claim(tor)...))
				require.NoError(t, h.send(wire.Message{ID: wire.Unchoke}))
				start := time.Now()
				done := make(chan int)
				go func() { done <- h.serve(func(wire.Message) []byte { return nil }) }()
				hs.finish(t)
				elapsed := time.Since(start)
				t.Logf("fake time to complete with a peer that never serves: %v", elapsed)
				// 1 MiB at 512 KiB/s is 2 s; the stalled requests cost at most a few request
				// timeouts, not the whole download.
				assert.Less(t, elapsed, 2*time.Second+4*hRequest)
				_ = h.nc.Close()
				assert.Positive(t, <-done, "the liar was asked for blocks")
			})
		})
	}
}

func TestHostileBitfieldAndHave(t *testing.T) {
	const pieces = 32 // hostileTorrent
	spare := bitfield.New(pieces).Bytes()
	spare = append(spare[:len(spare):len(spare)], 0x01) // 33 pieces' worth: one byte too many
	tests := []struct {
		name   string
		msgs   []wire.Message
		raw    []byte // sent after msgs
		reason string // in the logged error
	}{
		{name: "spare bits set", raw: []byte{0, 0, 0, 6, byte(wire.BitfieldID), 0xff, 0xff, 0xff, 0xff, 0x00}, reason: "bitfield"},
		{name: "too short", msgs: []wire.Message{{ID: wire.BitfieldID, Bitfield: []byte{0xff, 0xff, 0xff}}}, reason: "bitfield of 3 bytes"},
		{name: "too long", msgs: []wire.Message{{ID: wire.BitfieldID, Bitfield: spare}}, reason: "bitfield of 5 bytes"},
		{name: "empty", msgs: []wire.Message{{ID: wire.BitfieldID, Bitfield: []byte{}}}, reason: "bitfield"},
		// A well-formed bitfield after other messages is tolerated as haves (aria2 1.36 sends
		// them): see TestLaterBitfieldAddsPieces in protocol_test.go.
		{name: "have out of range", msgs: []wire.Message{{ID: wire.Have, Index: pieces}}, reason: "have for piece 32 of 32"},
		{name: "have huge index", msgs: []wire.Message{{ID: wire.Have, Index: 1<<32 - 1}}, reason: "have for piece"},
		{name: "have of wrong size", raw: []byte{0, 0, 0, 3, byte(wire.Have), 0, 1}, reason: "have message of 3 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tor := hostileTorrent(t, 14)
				require.Equal(t, pieces, tor.Info.NumPieces())
				hs := newHonestSwarm(t, tor, 512<<10)
				h := dialHostile(t, hs.nw, tor, hs.leecher.Addr, 1)
				_ = h.send(tc.msgs...)
				if tc.raw != nil {
					_ = h.sendRaw(tc.raw)
				}
				elapsed, err := h.awaitClosed(5 * time.Second)
				require.NoError(t, err, "the engine must close the connection")
				assert.Less(t, elapsed, time.Second, "closed at once, not by a timeout")
				synctest.Wait()
				assert.NotEmpty(t, hs.logs.find("peer dropped", "protocol violation", tc.reason), hs.logs.dump())
				hs.finish(t)
			})
		})
	}
}

// TestHostileCorruptsSomeBlocks: a peer that sends good first blocks and garbage second ones
// shares the blame of failed pieces with the honest seeder; only it may be banned.
// Pieces are hashed from memory or, with HashMemory < 0, read back from disk: both ways must
// give the same blame.
func TestHostileCorruptsSomeBlocks(t *testing.T) {
	for seed := range uint64(6) {
		hashMemory := []int64{0, -1}[seed%2]
		t.Run(fmt.Sprint("seed ", seed, " hash memory ", hashMemory), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tor := hostileTorrent(t, 20+seed)
				hs := &honestSwarm{nw: peertest.NewNetwork(), tor: tor, logs: newRecorder()}
				mem := func(c *peer.Config) { c.HashMemory = hashMemory }
				hs.leecher = hNode(t, hs.nw, tor, peertest.Options{Logger: hs.logs.logger(), Configure: configure(seeded(100+seed), mem)})
				hs.addSeeder(t, 256<<10)
				h := dialHostile(t, hs.nw, tor, hs.leecher.Addr, 1)
				require.NoError(t, h.send(bitfieldMsg(fullHave(tor)), wire.Message{ID: wire.Unchoke}))
				go h.serve(func(m wire.Message) []byte {
					if m.Begin == 0 {
						return h.block(m)
					}
					return garbage(m)
				})
				hs.finish(t)
				synctest.Wait()
				t.Logf("%d pieces failed", hs.leecher.Swarm.Stats().FailedPieces)
				assert.Empty(t, hs.logs.find("peer banned", hs.seeder.Addr.String()), "the honest seeder must not be banned")
				assert.NotEmpty(t, hs.logs.find("peer banned", "sent corrupt data"), hs.logs.dump())
			})
		})
	}
}

// TestHostileLiarKeepsAlive: a peer that claims every piece, unchokes, never serves a block
// and sends keep-alives (so the idle deadline never fires) must still be dropped, with a
// logged reason, once its requests keep timing out; it must not hold a peer slot for ever.
func TestHostileLiarKeepsAlive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tor := hostileTorrent(t, 15)
		hs := newHonestSwarm(t, tor, 0)
		h := dialHostile(t, hs.nw, tor, hs.leecher.Addr, 1)
		require.NoError(t, h.send(bitfieldMsg(fullHave(tor)), wire.Message{ID: wire.Unchoke}))
		stop := h.keepAlive(hIdle / 2)
		defer stop()
		served := make(chan int)
		go func() { served <- h.serve(func(wire.Message) []byte { return nil }) }()
		limit := 10 * hRequest
		select {
		case n := <-served:
			synctest.Wait()
			t.Logf("dropped after %d requests: %s", n, hs.logs.find("peer dropped"))
			assert.NotEmpty(t, hs.logs.find("peer dropped", "err="), hs.logs.dump())
		case <-time.After(limit):
			_ = h.nc.Close()
			<-served
			t.Errorf("a peer that never serves its requests is still connected after %v", limit)
		}
	})
}

// keepAlive sends a keep-alive every interval in the background until stop.
func (h *hostilePeer) keepAlive(every time.Duration) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for h.send(wire.Message{KeepAlive: true}) == nil {
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

// TestHostileFramesHonestSeeder: a smarter corrupter never answers the first block of a piece
// (the request times out and goes to the honest seeder) and sends garbage for the second, so
// that every piece it spoils was shared with the honest seeder. The smart ban must ban it and
// not the honest seeder, and the download must complete.
func TestHostileFramesHonestSeeder(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tor := hostileTorrent(t, 40+seed)
				hs := &honestSwarm{nw: peertest.NewNetwork(), tor: tor, logs: newRecorder()}
				hs.leecher = hNode(t, hs.nw, tor, peertest.Options{Logger: hs.logs.logger(), Configure: configure(seeded(200 + seed))})
				hs.addSeeder(t, 256<<10)
				h := dialHostile(t, hs.nw, tor, hs.leecher.Addr, 1)
				require.NoError(t, h.send(bitfieldMsg(fullHave(tor)), wire.Message{ID: wire.Unchoke}))
				go h.serve(func(m wire.Message) []byte {
					if m.Begin == 0 {
						return nil // let it time out: the honest seeder will send it
					}
					return garbage(m)
				})
				hs.finish(t)
				synctest.Wait()
				t.Logf("%d pieces failed", hs.leecher.Swarm.Stats().FailedPieces)
				assert.Empty(t, hs.logs.find("peer banned", hs.seeder.Addr.String()), "the honest seeder must not be banned")
				assert.NotEmpty(t, hs.logs.find("peer banned", "sent corrupt data"), "the corrupter must be banned (smart ban)")
			})
		})
	}
}
