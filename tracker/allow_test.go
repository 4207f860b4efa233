package tracker_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anacrolix/torrent/bencode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/tracker"
	"github.com/swarm-bt/swarm/tracker/trackertest"
)

func TestLoadAllowListFile(t *testing.T) {
	h1, h2 := trackertest.Hash(1), trackertest.Hash(2)
	p := filepath.Join(t.TempDir(), "allow.txt")
	require.NoError(t, os.WriteFile(p, []byte("# comment\n"+h1.String()+"\n\n  "+strings.ToUpper(h2.String())+"  # two\n"), 0o600))
	a, err := tracker.LoadAllowList(p)
	require.NoError(t, err)
	assert.True(t, a.Contains(h1))
	assert.True(t, a.Contains(h2))
	assert.False(t, a.Contains(trackertest.Hash(3)))

	_, err = tracker.ReadAllowList(strings.NewReader("zz\n"))
	assert.ErrorContains(t, err, "line 1")
	_, err = tracker.LoadAllowList(filepath.Join(t.TempDir(), "missing"))
	assert.Error(t, err)
}

func TestLoadAllowListDir(t *testing.T) {
	dir := t.TempDir()
	info := map[string]any{"name": "a.bin", "length": 5, "piece length": 16384, "pieces": strings.Repeat("x", 20)}
	infoBytes, err := bencode.Marshal(info)
	require.NoError(t, err)
	data, err := bencode.Marshal(map[string]any{"announce": "http://127.0.0.1/announce", "info": bencode.Bytes(infoBytes)})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.torrent"), data, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("ignored"), 0o600))
	m, err := metainfo.Parse(data)
	require.NoError(t, err)

	a, err := tracker.LoadAllowList(dir)
	require.NoError(t, err)
	assert.Equal(t, tracker.AllowList{m.InfoHash: {}}, a)
}
