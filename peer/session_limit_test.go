package peer_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/peertest"
	"github.com/swarm-bt/swarm/peer/storage"
)

// TestGlobalLimitSharedFairly: two torrents in one session under one global upload limit,
// one with three leechers and one with a single leecher. The session's limit is met within
// 10% and split fairly (each torrent within 25% of half), in fake time. The same setup
// with one plain rate.Limiter shared by the torrents (the way before sessions) gives the
// torrent with more peers most of it: that is what the fair limiter fixes.
func TestGlobalLimitSharedFairly(t *testing.T) {
	const limit = 256 << 10 // bytes per second
	const window = 8 * time.Second
	a, err := peertest.NewTorrent("a.bin", 4<<20, 32<<10, 41)
	require.NoError(t, err)
	b, err := peertest.NewTorrent("b.bin", 4<<20, 32<<10, 42)
	require.NoError(t, err)
	tests := []struct {
		name string
		fair bool
	}{
		{"session limit: fair", true},
		{"shared rate.Limiter: by peers", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				nw := peertest.NewNetwork()
				var sc peer.SessionConfig
				configure := func(*peer.Config) {}
				if tc.fair {
					sc.UploadLimit = limit
				} else {
					shared := peer.NewLimiter(limit)
					configure = func(c *peer.Config) { c.UploadLimiter = shared }
				}
				s := startSession(t, nw, sc)
				swA, swB := seedIn(t, s, a, configure), seedIn(t, s, b, configure)
				for range 3 {
					leechFrom(t, nw, a, s.addr)
				}
				leechFrom(t, nw, b, s.addr)
				time.Sleep(2 * time.Second) // connected, unchoked, pipelines full
				upA, upB := swA.Stats().Uploaded, swB.Stats().Uploaded
				time.Sleep(window)
				upA, upB = swA.Stats().Uploaded-upA, swB.Stats().Uploaded-upB
				total := float64(upA + upB)
				want := limit * window.Seconds()
				shareA := float64(upA) / total
				t.Logf("a (3 leechers) %d B, b (1 leecher) %d B: %.0f%% of the limit, a's share %.2f", upA, upB, 100*total/want, shareA)
				assert.InEpsilon(t, want, total, 0.10, "the global limit")
				if tc.fair {
					assert.InEpsilon(t, 0.5, shareA, 0.25, "a's share")
				} else {
					assert.Greater(t, shareA, 0.625, "by connection, not by torrent")
				}
				require.Less(t, upB, b.Info.TotalLength(), "b's leecher still wanted more at the end")
			})
		})
	}
}

// TestGlobalLimitUnusedShareGoesToOthers: a torrent whose only peer is slow (its download
// is capped far below half the global limit) does not hold back the other: the other gets
// the rest of the limit.
func TestGlobalLimitUnusedShareGoesToOthers(t *testing.T) {
	const limit = 256 << 10
	a, err := peertest.NewTorrent("a.bin", 4<<20, 32<<10, 43)
	require.NoError(t, err)
	b, err := peertest.NewTorrent("b.bin", 4<<20, 32<<10, 44)
	require.NoError(t, err)
	synctest.Test(t, func(t *testing.T) {
		nw := peertest.NewNetwork()
		s := startSession(t, nw, peer.SessionConfig{UploadLimit: limit})
		swA, swB := seedIn(t, s, a, nil), seedIn(t, s, b, nil)
		leechFrom(t, nw, a, s.addr)
		leechFrom(t, nw, b, s.addr, downLimit(32<<10)) // slow
		time.Sleep(2 * time.Second)
		upA, upB := swA.Stats().Uploaded, swB.Stats().Uploaded
		time.Sleep(8 * time.Second)
		upA, upB = swA.Stats().Uploaded-upA, swB.Stats().Uploaded-upB
		t.Logf("a %d B, b (slow peer) %d B", upA, upB)
		assert.InEpsilon(t, 32<<10*8, float64(upB), 0.25, "b gets what its peer takes")
		assert.InEpsilon(t, float64(limit-32<<10)*8, float64(upA), 0.10, "a gets the rest")
	})
}

// TestGlobalDownloadLimitSharedFairly: the same for the download limit, one torrent fetched
// from three seeds and one from a single seed.
func TestGlobalDownloadLimitSharedFairly(t *testing.T) {
	const limit = 256 << 10
	a, err := peertest.NewTorrent("a.bin", 4<<20, 32<<10, 45)
	require.NoError(t, err)
	b, err := peertest.NewTorrent("b.bin", 4<<20, 32<<10, 46)
	require.NoError(t, err)
	synctest.Test(t, func(t *testing.T) {
		nw := peertest.NewNetwork()
		s := startSession(t, nw, peer.SessionConfig{DownloadLimit: limit})
		leech := func(tor *peertest.Torrent, seeds int) *peer.Swarm {
			cfg := peer.Config{Info: tor.Info, InfoHash: tor.InfoHash, Storage: storage.NewMemory(tor.Info.TotalLength())}
			fastTimeouts(&cfg)
			sw, err := s.Add(cfg)
			require.NoError(t, err)
			for range seeds {
				sw.AddPeers(bubbleNode(t, nw, tor, peertest.Options{Seed: true, Configure: fastTimeouts}).Addr)
			}
			return sw
		}
		swA, swB := leech(a, 3), leech(b, 1)
		time.Sleep(2 * time.Second)
		downA, downB := swA.Stats().Downloaded, swB.Stats().Downloaded
		time.Sleep(8 * time.Second)
		downA, downB = swA.Stats().Downloaded-downA, swB.Stats().Downloaded-downB
		total := float64(downA + downB)
		t.Logf("a (3 seeds) %d B, b (1 seed) %d B: %.0f%% of the limit", downA, downB, 100*total/(limit*8))
		assert.InEpsilon(t, limit*8, total, 0.10, "the global limit")
		assert.InEpsilon(t, 0.5, float64(downA)/total, 0.25, "a's share")
	})
}
