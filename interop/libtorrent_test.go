package interop

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// ltScript is the python driver for libtorrent, next to this file.
func ltScript(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("lt.py")
	require.NoError(t, err)
	return p
}

func ltArgs(t *testing.T, mode string, tf *torrentFile, dir string, h host) []string {
	return []string{systemPython, ltScript(t), mode, "--torrent", tf.Path, "--dir", dir,
		"--listen", h.String()}
}

func seedLibtorrent(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host) *node {
	return seedLibtorrentWith(t, ctx, tf, dir, h)
}

func seedLibtorrentWith(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host, extra ...string) *node {
	t.Helper()
	need(t, toolLibtorrent)
	args := append(ltArgs(t, "seed", tf, dir, h), extra...)
	return &node{procs: []*proc{startProc(t, ctx, "libtorrent-seed", args...)}}
}

func leechLibtorrent(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host) *node {
	return leechLibtorrentWith(t, ctx, tf, dir, h)
}

func leechLibtorrentWith(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host, extra ...string) *node {
	t.Helper()
	need(t, toolLibtorrent)
	args := append(ltArgs(t, "leech", tf, dir, h), extra...)
	return exitNode(startProc(t, ctx, "libtorrent-get", args...))
}
