package peer_test

import (
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/peertest"
	"github.com/swarm-bt/swarm/peer/storage"
)

// countingStorage counts the reads of each piece: what a seeder served.
type countingStorage struct {
	storage.Storage
	pieceLen int64
	mu       sync.Mutex
	reads    map[int]int
}

func (c *countingStorage) ReadAt(p []byte, off int64) (int, error) {
	c.mu.Lock()
	c.reads[int(off/c.pieceLen)]++
	c.mu.Unlock()
	return c.Storage.ReadAt(p, off)
}

func (c *countingStorage) reset() map[int]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.reads
	c.reads = map[int]int{}
	return r
}

func limitUpload(bps rate.Limit) func(*peer.Config) {
	return func(c *peer.Config) {
		fastTimeouts(c)
		c.UploadLimiter = peer.NewLimiter(bps)
	}
}

func TestResumeDoesNotRefetchVerifiedPieces(t *testing.T) {
	tor, err := peertest.NewTorrent("resume.bin", 2<<20, 32<<10, 3)
	require.NoError(t, err)
	synctest.Test(t, func(t *testing.T) {
		net, tr := peertest.NewNetwork(), peertest.NewTracker()
		seedSt, err := tor.SeedStorage()
		require.NoError(t, err)
		counted := &countingStorage{Storage: seedSt, pieceLen: tor.Info.PieceLength, reads: map[int]int{}}
		seeder := bubbleNode(t, net, tor, peertest.Options{Announcer: tr, Storage: counted, Have: fullHave(tor),
			Configure: limitUpload(256 << 10)})
		st := storage.NewMemory(tor.Info.TotalLength())
		first := bubbleNode(t, net, tor, peertest.Options{Announcer: tr, Storage: st})
		third := tor.Info.NumPieces() / 3
		require.True(t, poll(time.Minute, func() bool { return first.Swarm.Stats().Have >= third }))
		require.NoError(t, first.Stop())

		have, err := storage.Check(t.Context(), tor.Info, st, 1, nil)
		require.NoError(t, err)
		t.Logf("verified before the restart: %d of %d pieces", have.Count(), tor.Info.NumPieces())
		require.GreaterOrEqual(t, have.Count(), third)
		require.Less(t, have.Count(), tor.Info.NumPieces())
		counted.reset()

		second := bubbleNode(t, net, tor, peertest.Options{Announcer: tr, Storage: st, Have: have})
		awaitComplete(t, second, 10*time.Minute)
		require.NoError(t, tor.Compare(st))
		reads := counted.reset()
		for i := range tor.Info.NumPieces() {
			if have.Has(i) {
				assert.Zero(t, reads[i], "piece %d was verified before the restart but served again", i)
			}
		}
		stats := second.Swarm.Stats()
		missing := tor.Info.TotalLength() - int64(have.Count())*tor.Info.PieceLength
		assert.Equal(t, missing, stats.Downloaded-stats.Wasted)
		require.NoError(t, second.Stop())
		require.NoError(t, seeder.Stop())
	})
}

// corruptStorage serves the payload with one byte flipped in every piece.
type corruptStorage struct {
	storage.Storage
	pieceLen int64
}

func (c corruptStorage) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.Storage.ReadAt(p, off)
	for i := range n {
		if (off+int64(i))%c.pieceLen == 100 {
			p[i] ^= 0xff
		}
	}
	return n, err
}

func TestCorruptPeerBannedDownloadCompletes(t *testing.T) {
	tor, err := peertest.NewTorrent("corrupt.bin", 1<<20, 32<<10, 4)
	require.NoError(t, err)
	synctest.Test(t, func(t *testing.T) {
		net, tr := peertest.NewNetwork(), peertest.NewTracker()
		goodSt, err := tor.SeedStorage()
		require.NoError(t, err)
		badSt, err := tor.SeedStorage()
		require.NoError(t, err)
		bad := bubbleNode(t, net, tor, peertest.Options{Announcer: tr, Have: fullHave(tor),
			Storage: corruptStorage{Storage: badSt, pieceLen: tor.Info.PieceLength}})
		// The good seed has its own IP: the ban strikes the bad seed's IP, which would refuse
		// the good seed too if it shared it and had not connected yet.
		good := bubbleNode(t, net, tor, peertest.Options{Announcer: tr, Storage: goodSt, Have: fullHave(tor),
			IP: netip.MustParseAddr("127.0.0.2"), Configure: limitUpload(512 << 10)})
		leecher := bubbleNode(t, net, tor, peertest.Options{Announcer: tr})
		awaitComplete(t, leecher, 10*time.Minute)
		require.NoError(t, tor.Compare(leecher.Storage))
		st := leecher.Swarm.Stats()
		t.Logf("failed pieces %d, wasted %d bytes", st.FailedPieces, st.Wasted)
		assert.Positive(t, st.FailedPieces)
		time.Sleep(5 * time.Second) // fake time: the banned peer may try to come back
		for _, p := range leecher.Swarm.Stats().Peers {
			assert.NotEqual(t, bad.Addr, p.Addr, "banned peer still connected")
		}
		assert.Empty(t, bad.Swarm.Stats().Peers, "banned peer reconnected")
		for _, n := range []*peertest.Node{leecher, good, bad} {
			require.NoError(t, n.Stop())
		}
	})
}

func TestUploadLimitPacesTransfer(t *testing.T) {
	const size = 2 << 20
	tor, err := peertest.NewTorrent("paced.bin", size, 64<<10, 5)
	require.NoError(t, err)
	tests := []struct {
		name      string
		up, down  rate.Limit
		wantAbout time.Duration
	}{
		{name: "upload 512KiB/s", up: 512 << 10, wantAbout: 4 * time.Second},
		{name: "download 1MiB/s", down: 1 << 20, wantAbout: 2 * time.Second},
		{name: "both, download tighter", up: 1 << 20, down: 256 << 10, wantAbout: 8 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				net, tr := peertest.NewNetwork(), peertest.NewTracker()
				seeder := bubbleNode(t, net, tor, peertest.Options{Announcer: tr, Seed: true, Configure: func(c *peer.Config) {
					fastTimeouts(c)
					c.UploadLimiter = peer.NewLimiter(tc.up)
				}})
				start := time.Now()
				leecher := bubbleNode(t, net, tor, peertest.Options{Announcer: tr, Configure: func(c *peer.Config) {
					fastTimeouts(c)
					c.DownloadLimiter = peer.NewLimiter(tc.down)
				}})
				awaitComplete(t, leecher, 10*time.Minute)
				elapsed := time.Since(start)
				t.Logf("fake time to download %d bytes: %v", size, elapsed)
				assert.InDelta(t, tc.wantAbout.Seconds(), elapsed.Seconds(), tc.wantAbout.Seconds()*0.1)
				require.NoError(t, leecher.Stop())
				require.NoError(t, seeder.Stop())
			})
		})
	}
}

func TestSetRateLimitsWhileRunning(t *testing.T) {
	tor, err := peertest.NewTorrent("change.bin", 2<<20, 64<<10, 6)
	require.NoError(t, err)
	synctest.Test(t, func(t *testing.T) {
		net, tr := peertest.NewNetwork(), peertest.NewTracker()
		seeder := bubbleNode(t, net, tor, peertest.Options{Announcer: tr, Seed: true, Configure: limitUpload(128 << 10)})
		start := time.Now()
		leecher := bubbleNode(t, net, tor, peertest.Options{Announcer: tr})
		time.Sleep(4 * time.Second) // about 512 KiB at 128 KiB/s
		seeder.Swarm.SetRateLimits(1<<20, 0)
		awaitComplete(t, leecher, 10*time.Minute)
		// 1.5 MiB left at 1 MiB/s after 4 s: about 5.5 s in all, far below 16 s unchanged.
		assert.InDelta(t, 5.5, time.Since(start).Seconds(), 0.6)
		require.NoError(t, leecher.Stop())
		require.NoError(t, seeder.Stop())
	})
}
