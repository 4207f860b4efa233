package storage

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/metainfo"
)

// TestRefresh: a file replaced, or deleted, under an open storage is read through the old
// handle until Refresh, and afresh after it; sizes (Present) follow.
func TestRefresh(t *testing.T) {
	dir := t.TempDir()
	data := payload(7, 64<<10)
	info := &metainfo.Info{Name: "r.bin", PieceLength: 16 << 10, Length: int64(len(data)), Pieces: hashes(data, 16<<10)}
	path := filepath.Join(dir, "r.bin")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	st, err := OpenFiles(info, dir)
	require.NoError(t, err)
	defer st.Close()
	got := make([]byte, 4)
	_, err = st.ReadAt(got, 0) // opens the handle
	require.NoError(t, err)
	assert.Equal(t, data[:4], got)

	other := payload(8, 64<<10)
	require.NoError(t, os.WriteFile(path+".new", other, 0o644))
	require.NoError(t, os.Rename(path+".new", path))
	_, err = st.ReadAt(got, 0)
	require.NoError(t, err)
	assert.Equal(t, data[:4], got, "the cached handle still reads the replaced file")

	require.NoError(t, st.(Refresher).Refresh())
	_, err = st.ReadAt(got, 0)
	require.NoError(t, err)
	assert.Equal(t, other[:4], got, "after Refresh, the new file")

	require.NoError(t, os.Remove(path))
	require.NoError(t, st.(Refresher).Refresh())
	assert.False(t, st.(Presence).Present(0, 16<<10), "a deleted file holds nothing")
	have, err := Check(t.Context(), info, st, 1, nil)
	require.NoError(t, err)
	assert.Zero(t, have.Count())
}
