package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/metainfo"
)

// runCmd runs swarm with args and returns stdout, stderr and the error.
func runCmd(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(t.Context(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// createPayload writes a small folder and returns its path.
func createPayload(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "payload")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "a.bin"), bytes.Repeat([]byte("a"), 70_000), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "sub", "b.txt"), []byte("hello"), 0o644))
	return root
}

func TestCreateCommand(t *testing.T) {
	src := createPayload(t)
	out := filepath.Join(t.TempDir(), "p.torrent")
	stdout, stderr, err := runCmd(t, "create", src, "-a", "http://t1/a, http://t2/a", "-a", "http://t3/a",
		"-o", out, "--piece-length", "16KiB", "--private", "--comment", "c", "--source", "S",
		"--web-seed", "http://ws/", "--no-date")
	require.NoError(t, err)
	assert.Empty(t, stderr, "no progress bar when stderr is not a terminal")
	m, err := metainfo.Load(out)
	require.NoError(t, err)
	assert.Equal(t, out+": 68.4 KiB, 5 pieces of 16 KiB, info-hash "+m.InfoHash.String()+"\n", stdout)
	assert.Equal(t, [][]string{{"http://t1/a", "http://t2/a"}, {"http://t3/a"}}, m.Trackers())
	assert.True(t, m.Info.Private)
	assert.Equal(t, "S", m.Info.Source)
	assert.Equal(t, "c", m.Comment)
	assert.Equal(t, []string{"http://ws/"}, m.URLList)
	assert.Zero(t, m.CreationDate)

	lib, err := metainfo.Create(t.Context(), metainfo.CreateConfig{Path: src, PieceLength: 16 << 10, Private: true, Source: "S"})
	require.NoError(t, err)
	assert.Equal(t, lib.InfoHash, m.InfoHash)
}

func TestCreateCommandOutput(t *testing.T) {
	src := createPayload(t)
	t.Chdir(t.TempDir())
	_, _, err := runCmd(t, "create", src, "-q")
	require.NoError(t, err)
	first, err := metainfo.Load("payload.torrent")
	require.NoError(t, err, "default output is <name>.torrent")
	assert.NotZero(t, first.CreationDate)

	_, _, err = runCmd(t, "create", src)
	require.Error(t, err)
	assert.Equal(t, "create: payload.torrent exists (use --force to overwrite)", err.Error())

	_, _, err = runCmd(t, "create", src, "--force", "-c", "second")
	require.NoError(t, err)
	second, err := metainfo.Load("payload.torrent")
	require.NoError(t, err)
	assert.Equal(t, "second", second.Comment)

	stdout, _, err := runCmd(t, "create", src, "-o", "-")
	require.NoError(t, err)
	viaStdout, err := metainfo.Parse([]byte(stdout))
	require.NoError(t, err)
	assert.Equal(t, first.InfoHash, viaStdout.InfoHash)
}

func TestCreateCommandErrors(t *testing.T) {
	src := createPayload(t)
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"no path", []string{"create"}, "create: missing PATH (usage: swarm create PATH [-a URL[,URL...]]... [-o out.torrent] [flags])"},
		{"missing path", []string{"create", filepath.Join(src, "nope"), "-o", "x"}, "create torrent: stat"},
		{"piece length not a power of two", []string{"create", src, "-l", "100KiB"}, "want a power of two from 16KiB to 128MiB"},
		{"piece length too small", []string{"create", src, "-l", "8KiB"}, "want a power of two"},
		{"piece length garbage", []string{"create", src, "-l", "lots"}, "--piece-length: size \"lots\""},
		{"empty tier", []string{"create", src, "-a", " , "}, `--announce " , ": no URL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runCmd(t, tt.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.msg)
			assert.NotContains(t, err.Error(), "\n", "one line")
		})
	}
}

func TestCreateAndInfoHelp(t *testing.T) {
	for _, c := range []string{"create", "info"} {
		stdout, _, err := runCmd(t, c, "--help")
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(stdout, strings.ToUpper(c[:1])+c[1:]), stdout)
		assert.Contains(t, stdout, "Examples:")
	}
}
