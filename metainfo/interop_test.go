package metainfo

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/internal/testenv"
)

// TestInteropMktorrentSameInfoHash checks that Create and mktorrent agree on the info-hash for
// the same payload and piece length: a single file, and a nested folder with a 0-byte file, a
// hidden file, odd sizes and names whose bytewise order differs from a per-folder walk.
func TestInteropMktorrentSameInfoHash(t *testing.T) {
	mk := testenv.NeedTools(t, "mktorrent")[0]
	tree := writeTree(t, map[string][]byte{
		"a/b/c/x.bin": payload(11, 100_003), "a/b/y.bin": payload(12, 17), "a-b/z.txt": payload(13, 4_097),
		".hidden": payload(14, 5), "empty.dat": nil, "zz/last.bin": payload(15, 65_537),
		"single.bin": payload(16, 300_001),
	})
	single := filepath.Join(tree, "single.bin")
	require.NoError(t, os.Rename(single, filepath.Join(filepath.Dir(tree), "single.bin")))
	single = filepath.Join(filepath.Dir(tree), "single.bin")
	tests := []struct {
		name   string
		path   string
		log2   int
		cfg    CreateConfig
		mkArgs []string
	}{
		{"single file", single, 15, CreateConfig{}, nil},
		{"nested folder", tree, 15, CreateConfig{}, nil},
		{"nested folder, big pieces, private, source", tree, 20, CreateConfig{Private: true, Source: "swarm"}, []string{"-p", "-s", "swarm"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "mk.torrent")
			args := append([]string{"-d", "-l", strconv.Itoa(tt.log2), "-a", "http://127.0.0.1:1/announce", "-o", out}, tt.mkArgs...)
			runTool(t, mk, append(args, tt.path)...)
			ref, err := Load(out)
			require.NoError(t, err)
			cfg := tt.cfg
			cfg.Path, cfg.PieceLength = tt.path, 1<<tt.log2
			got, err := Create(t.Context(), cfg)
			require.NoError(t, err)
			assert.Equal(t, ref.InfoHash, got.InfoHash)
			assert.Equal(t, ref.Info, got.Info)
		})
	}
}

// runTool runs a reference program with a time limit and fails with its output on error.
func runTool(t *testing.T, prog string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, prog, args...).CombinedOutput()
	require.NoError(t, err, fmt.Sprintf("%s %v:\n%s", prog, args, out))
}
