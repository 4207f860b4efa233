package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/metainfo"
)

// TestCtl drives a daemon with swarm ctl: add, ls (table and --json), info, pause, resume,
// peers, rm --delete-data, and the errors a user meets.
func TestCtl(t *testing.T) {
	t.Parallel()
	dataDir, srcDir := t.TempDir(), t.TempDir()
	tpath, _ := writeTorrent(t, srcDir, "ctl.bin", 200<<10, "http://127.0.0.1:1/announce")
	mi, err := metainfo.Load(tpath)
	require.NoError(t, err)
	ih := mi.InfoHash.String()
	login := startDaemonInProcess(t, "--data", dataDir, "--listen", "127.0.0.1:0", "--port", "0", "--bind", "127.0.0.1")
	base, _, _ := strings.Cut(login, "/login?")
	ctl := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"ctl", "--url", base, "--token-file", filepath.Join(dataDir, "token")}, args...), &out, &out)
		return out.String(), err
	}
	sub := filepath.Join(dataDir, "downloads", "ctl")
	out, err := ctl("add", tpath, "-d", sub, "--paused")
	require.NoError(t, err, out)
	assert.Contains(t, out, "added "+ih)

	out, err = ctl("ls", "--json")
	require.NoError(t, err, out)
	var list []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &list), out)
	require.Len(t, list, 1)
	assert.Equal(t, ih, list[0]["info_hash"])
	assert.Equal(t, "ctl.bin", list[0]["name"])
	assert.Equal(t, 0.0, list[0]["progress"])
	assert.Contains(t, []any{"checking", "paused"}, list[0]["state"])

	out, err = ctl("ls")
	require.NoError(t, err, out)
	assert.Contains(t, out, ih[:8])
	assert.Contains(t, out, "ctl.bin")

	out, err = ctl("info", ih[:6])
	require.NoError(t, err, out)
	assert.Contains(t, out, "Save folder:  "+sub)
	out, err = ctl("resume", "ctl.bin") // by name
	require.NoError(t, err, out)
	out, err = ctl("pause", ih)
	require.NoError(t, err, out)
	assert.Contains(t, out, "paused")
	out, err = ctl("peers", ih[:6], "--json")
	require.NoError(t, err, out)
	assert.Equal(t, "[]\n", out)

	_, err = ctl("info", "ffff")
	assert.ErrorContains(t, err, "no torrent matches")
	_, err = ctl("add", tpath)
	assert.ErrorContains(t, err, "already added")
	_, err = ctl("add", tpath, "-d", t.TempDir())
	assert.ErrorContains(t, err, "not allowed")
	var out2 bytes.Buffer
	bad := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(bad, []byte("0123456789abcdef0123456789abcdef\n"), 0o600))
	err = run(context.Background(), []string{"ctl", "--url", base, "--token-file", bad, "ls"}, &out2, &out2)
	assert.ErrorContains(t, err, "HTTP 401")

	require.NoError(t, os.MkdirAll(sub, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(sub, "ctl.bin"), []byte("partial"), 0o644))
	out, err = ctl("rm", ih[:6], "--delete-data")
	require.NoError(t, err, out)
	_, err = os.Stat(filepath.Join(sub, "ctl.bin"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	out, err = ctl("ls", "--json")
	require.NoError(t, err)
	assert.Equal(t, "[]\n", out)
}
