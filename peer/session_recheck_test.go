package peer_test

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/peertest"
	"github.com/swarm-bt/swarm/peer/storage"
)

// A recheck inside the live swarm: a piece damaged on disk is found, no longer offered and
// downloaded again, while a peer stays connected all along; counters go on and there is no
// second started announce.
func TestRecheckKeepsPeersAndHeals(t *testing.T) {
	tor, err := peertest.NewTorrent("heal.bin", 1<<20, 32<<10, 21) // 32 pieces
	require.NoError(t, err)
	synctest.Test(t, func(t *testing.T) {
		nw, tr := peertest.NewNetwork(), peertest.NewTracker()
		s := startSession(t, nw, peer.SessionConfig{})
		sw := seedIn(t, s, tor, func(c *peer.Config) { c.Announcer = tr })
		st := swStorage(t, tor, sw)
		lst := &lockedStorage{Storage: storage.NewMemory(tor.Info.TotalLength())}
		l := leechFrom(t, nw, tor, s.addr, downLimit(128<<10), func(c *peer.Config) { c.Storage = lst })
		// Wait until the leecher holds some pieces but not all.
		have := func() []int { return verifiedPieces(t, tor, lst) }
		for synctest.Wait(); len(have()) < 4; synctest.Wait() {
			time.Sleep(time.Second)
		}
		require.Less(t, len(have()), tor.Info.NumPieces())
		before := sw.Stats()
		require.Len(t, before.Peers, 1)
		conn := before.Peers[0].Addr
		k := have()[0]

		_, err := st.WriteAt([]byte("rot"), int64(k)*tor.Info.PieceLength+100)
		require.NoError(t, err)
		res, err := sw.Recheck(t.Context())
		require.NoError(t, err)
		assert.Equal(t, peer.RecheckResult{Good: tor.Info.NumPieces() - 1, Lost: 1}, res)
		completed := sw.Completed()
		select {
		case <-completed:
			t.Fatal("a torrent missing a piece must not count as complete")
		default:
		}
		// The leecher that has the piece never says so (no have is sent to a peer that has
		// the piece already, and it thinks we do): an honest seed provides it.
		honest := bubbleNode(t, nw, tor, peertest.Options{Seed: true, Configure: fastTimeouts})
		sw.AddPeers(honest.Addr)
		select {
		case <-completed:
		case <-time.After(2 * time.Minute):
			t.Fatalf("the damaged piece was not downloaded again: %+v", sw.Stats())
		}
		require.NoError(t, tor.Compare(st), "the damaged piece is whole again")
		after := sw.Stats()
		require.NotEmpty(t, after.Peers, "the leecher is still connected")
		assert.Equal(t, conn, after.Peers[0].Addr, "on the same connection")
		assert.Equal(t, tor.Info.PieceLength, after.Downloaded, "one piece downloaded again")
		assert.GreaterOrEqual(t, after.Uploaded, before.Uploaded, "counters go on")
		started := 0
		for _, a := range tr.Announces() {
			if a.Event == peer.EventStarted && a.InfoHash == tor.InfoHash && a.PeerID == s.PeerID() {
				started++
			}
		}
		assert.Equal(t, 1, started, "no new started announce")
		awaitComplete(t, l, 10*time.Minute)
		assert.NoError(t, tor.Compare(l.Storage))
	})
}

// swStorage returns the storage a seed of tor was given by seedIn: the swarm reads it, so
// the test finds it through a fresh seed storage compared by content.
func swStorage(t *testing.T, tor *peertest.Torrent, sw *peer.Swarm) storage.Storage {
	t.Helper()
	st, ok := seedStorages[sw]
	require.True(t, ok)
	return st
}

// verifiedPieces lists the pieces of tor whose data in st is whole.
func verifiedPieces(t *testing.T, tor *peertest.Torrent, st storage.Storage) []int {
	t.Helper()
	v := storage.NewVerifier(tor.Info)
	var out []int
	for i := range tor.Info.NumPieces() {
		ok, err := v.Verify(st, i)
		require.NoError(t, err)
		if ok {
			out = append(out, i)
		}
	}
	return out
}

// lockedStorage makes a storage safe to read from the test while the engine writes it.
type lockedStorage struct {
	mu sync.Mutex
	storage.Storage
}

func (l *lockedStorage) ReadAt(p []byte, off int64) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.Storage.ReadAt(p, off)
}

func (l *lockedStorage) WriteAt(p []byte, off int64) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.Storage.WriteAt(p, off)
}
