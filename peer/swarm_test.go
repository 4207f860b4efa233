package peer_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/peertest"
	"github.com/swarm-bt/swarm/peer/storage"
)

func TestNewRejectsBadConfig(t *testing.T) {
	tor := protoTorrent(t)
	st := storage.NewMemory(tor.Info.TotalLength())
	tests := []struct {
		name string
		cfg  peer.Config
	}{
		{name: "no info", cfg: peer.Config{Storage: st}},
		{name: "no storage", cfg: peer.Config{Info: tor.Info}},
		{name: "have of the wrong size", cfg: peer.Config{Info: tor.Info, Storage: st, Have: fullHave(protoTorrentN(t, 9))}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := peer.New(tc.cfg)
			assert.Error(t, err)
		})
	}
}

func protoTorrentN(t *testing.T, pieces int) *peertest.Torrent {
	tor, err := peertest.NewTorrent("n.bin", int64(pieces)*16<<10, 16<<10, 1)
	require.NoError(t, err)
	return tor
}

func TestSeedIsCompleteAtStartAndRunsOnce(t *testing.T) {
	tor := protoTorrent(t)
	synctest.Test(t, func(t *testing.T) {
		seeder := bubbleNode(t, peertest.NewNetwork(), tor, peertest.Options{Seed: true})
		select {
		case <-seeder.Swarm.Completed():
		default:
			t.Fatal("a seed is not complete at start")
		}
		synctest.Wait() // the node's Run has started and idles
		st := seeder.Swarm.Stats()
		assert.ErrorIs(t, seeder.Swarm.Run(t.Context()), peer.ErrAlreadyRun)
		assert.True(t, st.Seeding)
		assert.Equal(t, tor.Info.NumPieces(), st.Have)
		require.NoError(t, seeder.Stop())
		assert.Equal(t, st.Have, seeder.Swarm.Stats().Have, "stats after Run returned")
		seeder.Swarm.AddPeers() // returns at once after Run
	})
}

func TestAnnounceEvents(t *testing.T) {
	tor := protoTorrent(t)
	synctest.Test(t, func(t *testing.T) {
		net, tr := peertest.NewNetwork(), peertest.NewTracker()
		tr.Interval = time.Minute
		seeder := bubbleNode(t, net, tor, peertest.Options{Announcer: tr, Seed: true})
		leecher := bubbleNode(t, net, tor, peertest.Options{Announcer: tr})
		awaitComplete(t, leecher, 10*time.Minute)
		time.Sleep(150 * time.Second) // two regular announces each (interval 1 min)
		require.NoError(t, leecher.Stop())
		require.NoError(t, seeder.Stop())
		var events []string
		for _, a := range tr.Announces() {
			if a.PeerID == leecher.Swarm.PeerID() {
				events = append(events, a.Event.String())
			}
		}
		assert.Equal(t, []string{"started", "completed", "", "", "stopped"}, events)
		last := tr.Announces()[len(tr.Announces())-2]
		assert.Equal(t, leecher.Swarm.PeerID(), last.PeerID)
		assert.Equal(t, int64(0), last.Left)
		assert.Equal(t, tor.Info.TotalLength(), last.Downloaded)
	})
}

// flakyAnnouncer fails its first n announces.
type flakyAnnouncer struct {
	peer.Announcer
	fails atomic.Int32
	times []time.Time
}

func (f *flakyAnnouncer) Announce(ctx context.Context, req peer.AnnounceRequest) (peer.AnnounceResponse, error) {
	f.times = append(f.times, time.Now())
	if f.fails.Add(-1) >= 0 {
		return peer.AnnounceResponse{}, errors.New("tracker unreachable")
	}
	return f.Announcer.Announce(ctx, req)
}

func TestAnnounceBacksOffOnErrors(t *testing.T) {
	tor := protoTorrent(t)
	synctest.Test(t, func(t *testing.T) {
		net, tr := peertest.NewNetwork(), peertest.NewTracker()
		seeder := bubbleNode(t, net, tor, peertest.Options{Announcer: tr, Seed: true})
		fa := &flakyAnnouncer{Announcer: tr}
		fa.fails.Store(3)
		start := time.Now()
		leecher := bubbleNode(t, net, tor, peertest.Options{Announcer: fa, Configure: func(c *peer.Config) {
			c.Timeouts.MinAnnounce = 10 * time.Second
		}})
		awaitComplete(t, leecher, 10*time.Minute)
		require.NoError(t, leecher.Stop())
		require.NoError(t, seeder.Stop())
		require.GreaterOrEqual(t, len(fa.times), 4)
		var gaps []time.Duration
		for i := 1; i < 4; i++ {
			gaps = append(gaps, fa.times[i].Sub(fa.times[i-1]))
		}
		assert.Equal(t, start, fa.times[0])
		assert.Equal(t, fmt.Sprint([]time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second}), fmt.Sprint(roundSeconds(gaps)))
	})
}

func roundSeconds(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Second)
	}
	return out
}

// fullDisk accepts limit bytes, then fails every write as a full disk would.
type fullDisk struct {
	storage.Storage
	left atomic.Int64
}

func (f *fullDisk) WriteAt(p []byte, off int64) (int, error) {
	if f.left.Add(-int64(len(p))) < 0 {
		return 0, &storage.DiskFullError{Path: "full.bin", Err: errors.New("no space left on device")}
	}
	return f.Storage.WriteAt(p, off)
}

func TestFullDiskStopsRun(t *testing.T) {
	tor := protoTorrent(t)
	synctest.Test(t, func(t *testing.T) {
		net, tr := peertest.NewNetwork(), peertest.NewTracker()
		seeder := bubbleNode(t, net, tor, peertest.Options{Announcer: tr, Seed: true})
		fd := &fullDisk{Storage: storage.NewMemory(tor.Info.TotalLength())}
		fd.left.Store(40 << 10)
		leecher := bubbleNode(t, net, tor, peertest.Options{Announcer: tr, Storage: fd})
		<-leecher.Done()
		require.ErrorIs(t, leecher.Err(), storage.ErrDiskFull)
		assert.Less(t, leecher.Swarm.Stats().Have, tor.Info.NumPieces())
		require.NoError(t, seeder.Stop())
	})
}

func TestStatsDuringTransfer(t *testing.T) {
	tor, err := peertest.NewTorrent("stats.bin", 2<<20, 64<<10, 13)
	require.NoError(t, err)
	synctest.Test(t, func(t *testing.T) {
		net, tr := peertest.NewNetwork(), peertest.NewTracker()
		seeder := bubbleNode(t, net, tor, peertest.Options{Announcer: tr, Seed: true, Configure: limitUpload(256 << 10)})
		leecher := bubbleNode(t, net, tor, peertest.Options{Announcer: tr})
		time.Sleep(4 * time.Second)
		st := leecher.Swarm.Stats()
		require.Len(t, st.Peers, 1)
		p := st.Peers[0]
		assert.Equal(t, peer.ClientVersion, p.Client, "from the extension handshake's v") // either side may have dialed: no Addr check
		assert.Equal(t, "SW 0100", p.IDClient)
		assert.True(t, p.Extensions)
		assert.True(t, p.Fast)
		assert.Contains(t, []peer.PeerSource{peer.SourceTracker, peer.SourceIncoming}, p.Source)
		assert.True(t, p.Interested, "we want the seeder's pieces")
		assert.False(t, p.PeerChoking, "the seeder unchoked us")
		assert.False(t, p.PeerInterested, "the seeder wants nothing")
		assert.True(t, p.Choked, "we choke a peer that wants nothing")
		assert.InDelta(t, 256<<10, p.DownRate, 40<<10)
		assert.InDelta(t, 256<<10, st.DownRate, 40<<10)
		assert.False(t, st.Seeding)
		assert.Equal(t, tor.Info.NumPieces(), st.NumPieces)
		assert.Equal(t, tor.Info.TotalLength()-int64(st.Have)*tor.Info.PieceLength, st.Left)

		sst := seeder.Swarm.Stats()
		require.Len(t, sst.Peers, 1)
		assert.InDelta(t, 256<<10, sst.UpRate, 40<<10)
		assert.False(t, sst.Peers[0].Choked)
		assert.True(t, sst.Peers[0].PeerInterested)
		awaitComplete(t, leecher, 10*time.Minute)
		require.NoError(t, leecher.Stop())
		require.NoError(t, seeder.Stop())
		assert.Equal(t, tor.Info.TotalLength(), seeder.Swarm.Stats().Uploaded)
	})
}

// TestAddPeersAndStatsBeforeRun: the command line gives peers before Run starts; neither
// AddPeers nor Stats may wait for Run.
func TestAddPeersAndStatsBeforeRun(t *testing.T) {
	tor := protoTorrent(t)
	synctest.Test(t, func(t *testing.T) {
		net := peertest.NewNetwork()
		seeder := bubbleNode(t, net, tor, peertest.Options{Seed: true})
		sw, err := peer.New(peer.Config{Info: tor.Info, InfoHash: tor.InfoHash,
			Storage: storage.NewMemory(tor.Info.TotalLength()), Dialer: net.Dial, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		sw.AddPeers(seeder.Addr)
		sw.AddPeers(seeder.Addr) // merged with the first, not blocking
		st := sw.Stats()
		assert.Equal(t, tor.Info.TotalLength(), st.Left)
		assert.False(t, st.Seeding)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- sw.Run(ctx) }()
		<-sw.Completed()
		cancel()
		require.NoError(t, <-done)
		require.NoError(t, seeder.Stop())
	})
}
