package peer_test

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/bitfield"
	"github.com/swarm-bt/swarm/peer/peertest"
	"github.com/swarm-bt/swarm/peer/storage"
)

// fastTimeouts makes swarms find each other quickly in tests.
func fastTimeouts(c *peer.Config) {
	c.Timeouts.MinAnnounce = 200 * time.Millisecond
	c.Timeouts.RedialMin = 100 * time.Millisecond
	c.Timeouts.RedialMax = time.Second
}

// dbgLogger prints the engines' debug logs when SWARM_TEST_LOG is set.
var dbgLogger = func() *slog.Logger {
	if os.Getenv("SWARM_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}()

func startNode(t *testing.T, tor *peertest.Torrent, opt peertest.Options) *peertest.Node {
	t.Helper()
	if opt.Logger == nil {
		opt.Logger = dbgLogger
	}
	if opt.Configure == nil {
		opt.Configure = fastTimeouts
	}
	n, err := peertest.Start(t.Context(), tor, opt)
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Stop() })
	return n
}

func TestTransferTCPOneSeederOneLeecher(t *testing.T) {
	tor, err := peertest.NewTorrent("one.bin", 3<<20+123, 64<<10, 1)
	require.NoError(t, err)
	tr := peertest.NewTracker()
	seeder := startNode(t, tor, peertest.Options{Announcer: tr, Seed: true})
	leecher := startNode(t, tor, peertest.Options{Announcer: tr})
	awaitComplete(t, leecher, 20*time.Second)
	require.NoError(t, tor.Compare(leecher.Storage))

	st := leecher.Swarm.Stats()
	assert.Equal(t, int64(0), st.Left)
	assert.Equal(t, tor.Info.NumPieces(), st.Have)
	assert.True(t, st.Seeding)
	assert.Equal(t, tor.Info.TotalLength(), st.Downloaded-st.Wasted)
	require.NoError(t, leecher.Stop())
	require.NoError(t, seeder.Stop())
}

func fullHave(tor *peertest.Torrent) bitfield.Bitfield {
	bf := bitfield.New(tor.Info.NumPieces())
	for i := range tor.Info.NumPieces() {
		bf.Set(i)
	}
	return bf
}

func TestTransferTCPMultiFileSeveralLeechers(t *testing.T) {
	files := []peertest.File{
		{Path: "a/b/deep.bin", Size: 700<<10 + 3},
		{Path: "a/empty.dat", Size: 0},
		{Path: "top.bin", Size: 1<<20 + 77},
		{Path: "z/small.txt", Size: 999},
	}
	tor, err := peertest.NewMultiFileTorrent(t.TempDir(), "multi", files, 32<<10, 11)
	require.NoError(t, err)
	tr := peertest.NewTracker()
	startNode(t, tor, peertest.Options{Announcer: tr, Seed: true, Configure: func(c *peer.Config) {
		fastTimeouts(c)
		c.UploadLimiter = peer.NewLimiter(4 << 20) // so that leechers also trade among themselves
	}})
	var leechers []*peertest.Node
	var dirs []string
	for range 3 {
		dir := t.TempDir()
		st, err := storage.OpenFiles(tor.Info, dir)
		require.NoError(t, err)
		t.Cleanup(func() { _ = st.Close() })
		leechers = append(leechers, startNode(t, tor, peertest.Options{Announcer: tr, Storage: st}))
		dirs = append(dirs, dir)
	}
	for i, l := range leechers {
		awaitComplete(t, l, 20*time.Second)
		require.NoError(t, l.Stop())
		require.NoError(t, l.Storage.Close())
		for _, fe := range tor.Info.FileEntries() {
			got, err := os.ReadFile(filepath.Join(dirs[i], fe.Path))
			require.NoError(t, err, "leecher %d file %s", i, fe.Path)
			assert.Equal(t, tor.Payload[fe.Offset:fe.Offset+fe.Length], got, "leecher %d file %s", i, fe.Path)
		}
	}
}

// TestHashMemoryAvoidsReadBack: a leecher that keeps pieces in memory until they are hashed
// (the default) never reads its storage while it only downloads; with HashMemory < 0 it reads
// every piece back; with room for two pieces, some pieces may go either way (how many depends
// on how pieces overlap in flight). All copies must be whole.
func TestHashMemoryAvoidsReadBack(t *testing.T) {
	tor, err := peertest.NewTorrent("kept.bin", 2<<20+777, 32<<10, 3)
	require.NoError(t, err)
	const anyCount = -1
	for _, tc := range []struct {
		hashMemory int64
		readBack   int // pieces read back, or anyCount
	}{{0, 0}, {64 << 10, anyCount}, {-1, tor.Info.NumPieces()}} {
		t.Run(fmt.Sprint("hash memory ", tc.hashMemory), func(t *testing.T) {
			tr := peertest.NewTracker()
			startNode(t, tor, peertest.Options{Announcer: tr, Seed: true})
			st := &countingStorage{Storage: storage.NewMemory(tor.Info.TotalLength()), pieceLen: tor.Info.PieceLength, reads: map[int]int{}}
			leecher := startNode(t, tor, peertest.Options{Announcer: tr, Storage: st, Configure: func(c *peer.Config) {
				fastTimeouts(c)
				c.HashMemory = tc.hashMemory
			}})
			awaitComplete(t, leecher, 20*time.Second)
			reads := st.reset()
			require.NoError(t, tor.Compare(leecher.Storage))
			if tc.readBack != anyCount {
				assert.Len(t, reads, tc.readBack, "pieces read back to be hashed")
			}
		})
	}
}
