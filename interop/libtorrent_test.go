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
	t.Helper()
	need(t, toolLibtorrent)
	return &node{procs: []*proc{startProc(t, ctx, "libtorrent-seed", ltArgs(t, "seed", tf, dir, h)...)}}
}

func leechLibtorrent(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host) *node {
	t.Helper()
	need(t, toolLibtorrent)
	return exitNode(startProc(t, ctx, "libtorrent-get", ltArgs(t, "leech", tf, dir, h)...))
}
