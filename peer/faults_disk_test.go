package peer_test

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/internal/testenv"
	"github.com/swarm-bt/swarm/peer/peertest"
	"github.com/swarm-bt/swarm/peer/storage"
)

// TestFaultDiskFull downloads 4 MiB onto a 2 MiB tmpfs: the engine stops with an error naming
// the file and the space needed; the verified pieces survive; after the tmpfs grows, a new
// session resumes without fetching them again and completes.
func TestFaultDiskFull(t *testing.T) {
	dir, tor, seeder, first, _ := fillDisk(t)
	st := first.Storage
	verified := first.Swarm.Stats().Have
	require.NoError(t, st.Close())

	// Free space, then resume in a new session, as the CLI does: check, then download the rest.
	testenv.Remount(t, dir, "size=8m")
	st, err := storage.OpenFiles(tor.Info, dir)
	require.NoError(t, err)
	defer st.Close()
	have, err := storage.Check(t.Context(), tor.Info, st, 2, nil)
	require.NoError(t, err)
	t.Logf("verified before the disk filled: %d pieces; on disk after: %d of %d", verified, have.Count(), tor.Info.NumPieces())
	assert.GreaterOrEqual(t, have.Count(), verified, "a verified piece was lost")
	assert.Positive(t, have.Count())
	second := hNode(t, nil, tor, peertest.Options{Storage: st, Have: have})
	second.Swarm.AddPeers(seeder.Addr)
	awaitComplete(t, second, 20*time.Second)
	require.NoError(t, tor.Compare(st))
	s := second.Swarm.Stats()
	missing := tor.Info.TotalLength() - int64(have.Count())*tor.Info.PieceLength
	assert.Equal(t, missing, s.Downloaded-s.Wasted, "only the missing pieces are downloaded again")
}

// TestFaultDiskFullNeedsSpace: the error must tell how much space the download still needs.
// 4 MiB cannot fit in 2 MiB, so at least 2 MiB more are needed, whatever order the blocks
// came in.
func TestFaultDiskFullNeedsSpace(t *testing.T) {
	_, tor, _, first, dfe := fillDisk(t)
	defer first.Storage.Close()
	assert.GreaterOrEqual(t, dfe.Need, tor.Info.TotalLength()-2<<20, "space still needed, as reported: %d bytes", dfe.Need)
}

// fillDisk downloads 4 MiB onto a 2 MiB tmpfs until the engine stops on the full disk; it
// returns the folder, the torrent, its seeder, the stopped leecher (whose Storage is open)
// and the error's details.
func fillDisk(t *testing.T) (string, *peertest.Torrent, *peertest.Node, *peertest.Node, *storage.DiskFullError) {
	t.Helper()
	dir := testenv.Tmpfs(t, "2m")
	tor, err := peertest.NewTorrent("full.bin", 4<<20, 64<<10, 60)
	require.NoError(t, err)
	seeder := hNode(t, nil, tor, peertest.Options{Seed: true})

	st, err := storage.OpenFiles(tor.Info, dir)
	require.NoError(t, err)
	first := hNode(t, nil, tor, peertest.Options{Storage: st})
	first.Swarm.AddPeers(seeder.Addr)
	select {
	case <-first.Done():
	case <-time.After(20 * time.Second):
		t.Fatalf("the engine did not stop on a full disk: %+v", first.Swarm.Stats())
	}
	err = first.Err()
	require.ErrorIs(t, err, storage.ErrDiskFull)
	var dfe *storage.DiskFullError
	require.True(t, errors.As(err, &dfe), "%v", err)
	path := filepath.Join(dir, "full.bin")
	assert.Equal(t, path, dfe.Path)
	assert.ErrorContains(t, err, path)
	t.Logf("run stopped with: %v", err)
	return dir, tor, seeder, first, dfe
}

// TestFaultFilesChangedUnderSeed: a seed's file is overwritten on disk after its check; the
// leecher rejects what the seed now sends, bans it, and completes from an honest seed.
func TestFaultFilesChangedUnderSeed(t *testing.T) {
	tor, err := peertest.NewTorrent("changed.bin", 1<<20, 32<<10, 61)
	require.NoError(t, err)
	dir := t.TempDir()
	path := filepath.Join(dir, "changed.bin")
	require.NoError(t, os.WriteFile(path, tor.Payload, 0o644))
	synctest.Test(t, func(t *testing.T) {
		st, err := storage.OpenFiles(tor.Info, dir)
		require.NoError(t, err)
		defer st.Close()
		nw := peertest.NewNetwork()
		changed := hNode(t, nw, tor, peertest.Options{Storage: st, Have: fullHave(tor)})
		// Someone edits the file under the running seed: every piece gets a different byte.
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		require.NoError(t, err)
		for i := range tor.Info.NumPieces() {
			off := int64(i)*tor.Info.PieceLength + 1000
			_, err := f.WriteAt([]byte{^tor.Payload[off]}, off)
			require.NoError(t, err)
		}
		require.NoError(t, f.Close())

		// The honest seed has an address of its own: the ban strikes the changed seed's IP, and
		// on a shared one it would refuse the honest seed too if it had not connected yet.
		honest := hNode(t, nw, tor, peertest.Options{Seed: true, IP: netip.MustParseAddr("127.0.0.2"),
			Configure: configure(uploadLimit(256 << 10))})
		logs := newRecorder()
		t.Cleanup(func() {
			if t.Failed() {
				t.Log(logs.dump())
			}
		})
		leecher := hNode(t, nw, tor, peertest.Options{Logger: logs.logger()})
		leecher.Swarm.AddPeers(changed.Addr, honest.Addr)
		awaitComplete(t, leecher, 2*time.Minute)
		require.NoError(t, tor.Compare(leecher.Storage))
		s := leecher.Swarm.Stats()
		t.Logf("%d pieces failed their hash", s.FailedPieces)
		assert.Positive(t, s.FailedPieces, "the changed seed's pieces must have been rejected")
		assert.NotEmpty(t, logs.find("peer banned", changed.Addr.String(), "sent corrupt data"), logs.dump())
	})
}
