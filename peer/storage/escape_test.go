package storage

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swarm-bt/swarm/metainfo"
)

// TestEscape checks that nothing is created or written outside the download folder, whatever
// the torrent's paths or the symlinks already in the folder.
func TestEscape(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir, outside string)
		info  *metainfo.Info
	}{
		{"symlinked file", func(t *testing.T, dir, outside string) {
			require.NoError(t, os.Symlink(filepath.Join(outside, "target"), filepath.Join(dir, "f")))
		}, singleInfo("f", 16, make([]byte, 10))},
		{"symlinked name folder", func(t *testing.T, dir, outside string) {
			require.NoError(t, os.Symlink(outside, filepath.Join(dir, "m")))
		}, multiInfo("m", 16, make([]byte, 10), [][]string{{"a"}}, []int64{10})},
		{"symlinked sub folder", func(t *testing.T, dir, outside string) {
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "m"), 0o755))
			require.NoError(t, os.Symlink(outside, filepath.Join(dir, "m", "sub")))
		}, multiInfo("m", 16, make([]byte, 10), [][]string{{"sub", "a"}}, []int64{10})},
		{"relative symlink up", func(t *testing.T, dir, outside string) {
			require.NoError(t, os.Symlink("../outside/target", filepath.Join(dir, "f")))
		}, singleInfo("f", 16, make([]byte, 10))},
		{"dot-dot in path", nil, multiInfo("m", 16, make([]byte, 10), [][]string{{"..", "..", "outside", "target"}}, []int64{10})},
		{"dot-dot name", nil, singleInfo("../outside/target", 16, make([]byte, 10))},
		{"absolute name", nil, &metainfo.Info{Name: "/tmp/swarm-escape-test", PieceLength: 16, Length: 10, Pieces: make([]byte, 20)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			dir, outside := filepath.Join(base, "dl"), filepath.Join(base, "outside")
			require.NoError(t, os.MkdirAll(dir, 0o755))
			require.NoError(t, os.MkdirAll(outside, 0o755))
			if tc.setup != nil {
				tc.setup(t, dir, outside)
			}
			st, err := OpenFiles(tc.info, dir)
			if !assert.Error(t, err, "must be refused") {
				_, _ = st.WriteAt([]byte("0123456789"), 0)
				require.NoError(t, st.Close())
			}
			entries, rerr := os.ReadDir(outside)
			require.NoError(t, rerr)
			assert.Empty(t, entries, "nothing may appear outside the folder (open err: %v)", err)
			_, serr := os.Stat("/tmp/swarm-escape-test")
			assert.True(t, os.IsNotExist(serr))
		})
	}
}

// TestSymlinkInsideAllowed shows that a symlink staying inside the folder is followed.
func TestSymlinkInsideAllowed(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "real"), 0o755))
	require.NoError(t, os.Symlink("real", filepath.Join(dir, "m")))
	st, err := OpenFiles(multiInfo("m", 16, make([]byte, 4), [][]string{{"a"}}, []int64{4}), dir)
	require.NoError(t, err)
	_, err = st.WriteAt([]byte("abcd"), 0)
	require.NoError(t, err)
	require.NoError(t, st.Close())
	assert.Equal(t, []byte("abcd"), fileBytes(t, dir, "real", "a"))
}
