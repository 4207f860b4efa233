package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/metainfo"
)

// TestFaultGetRefusesEscapes: `swarm get` refuses torrents whose paths leave the download
// folder, and a symlink already in the folder does not let it write outside.
func TestFaultGetRefusesEscapes(t *testing.T) {
	tests := []struct {
		name    string
		torrent func(t *testing.T, dir, outside string) string
		errText string
	}{
		{"dot-dot in a file path", fixture("traversal"), "not allowed"},
		{"absolute file path", fixture("abs-path"), "contains a separator"},
		{"dot-dot name", fixture("name-dotdot"), "not allowed"},
		{"backslash path", fixture("backslash"), "contains a separator"},
		{"symlinked name pointing outside", func(t *testing.T, dir, outside string) string {
			require.NoError(t, os.Symlink(outside, filepath.Join(dir, "linked")))
			return smallTorrent(t, "linked")
		}, ""},
		{"symlinked file pointing outside", func(t *testing.T, dir, outside string) string {
			require.NoError(t, os.Symlink(filepath.Join(outside, "target"), filepath.Join(dir, "single.bin")))
			return smallTorrent(t, "single.bin")
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			dir, outside := filepath.Join(base, "dl", "inner"), filepath.Join(base, "outside")
			require.NoError(t, os.MkdirAll(dir, 0o755))
			require.NoError(t, os.MkdirAll(outside, 0o755))
			tpath := tc.torrent(t, dir, outside)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var out bytes.Buffer
			err := run(ctx, []string{"get", tpath, "-d", dir, "--port", "0", "--bind", "127.0.0.1", "-q"}, &out, &out)
			require.Error(t, err, "must be refused: %s", out.String())
			t.Logf("refused: %v", err)
			if tc.errText != "" {
				assert.ErrorContains(t, err, tc.errText)
			}
			entries, rerr := os.ReadDir(outside)
			require.NoError(t, rerr)
			assert.Empty(t, entries, "nothing may be created outside the download folder")
			entries, rerr = os.ReadDir(filepath.Join(base, "dl"))
			require.NoError(t, rerr)
			assert.Len(t, entries, 1, "nothing may be created next to the download folder")
		})
	}
}

// fixture returns the path of a malformed torrent of the repository's testdata.
func fixture(name string) func(*testing.T, string, string) string {
	return func(t *testing.T, _, _ string) string {
		p := filepath.Join("..", "..", "testdata", "malformed", name+".torrent")
		_, err := os.Stat(p)
		require.NoError(t, err)
		return p
	}
}

// smallTorrent makes a valid torrent named name (a folder of one file if name has no dot);
// its tracker is unreachable: the test never gets that far.
func smallTorrent(t *testing.T, name string) string {
	t.Helper()
	src := t.TempDir()
	path := filepath.Join(src, name)
	if filepath.Ext(name) == "" {
		require.NoError(t, os.MkdirAll(path, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(path, "a.bin"), bytes.Repeat([]byte("x"), 40<<10), 0o644))
	} else {
		require.NoError(t, os.WriteFile(path, bytes.Repeat([]byte("x"), 40<<10), 0o644))
	}
	mi, err := metainfo.Create(context.Background(), metainfo.CreateConfig{Path: path, PieceLength: 16 << 10,
		Announce: [][]string{{"http://127.0.0.1:1/announce"}}})
	require.NoError(t, err)
	b, err := mi.Marshal()
	require.NoError(t, err)
	tpath := filepath.Join(t.TempDir(), "t.torrent")
	require.NoError(t, os.WriteFile(tpath, b, 0o644))
	return tpath
}
