package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/bitfield"
	"github.com/swarm-bt/swarm/peer/storage"
)

// Regression tests for what a new user tripped over (issue 18).

// TestGetInterruptedLeavesNoEmptyFiles: a get stopped before any data arrived leaves the
// download folder as it found it (regression: 0-byte files were left behind).
func TestGetInterruptedLeavesNoEmptyFiles(t *testing.T) {
	announce := startTestTracker(t)
	tpath, _ := writeTorrent(t, t.TempDir(), "nothing-yet.bin", 100<<10, announce)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	var out bytes.Buffer
	// Whenever the deadline lands (in the check under load, or while the swarm waits for
	// peers), the content was opened: that is where the files used to be made.
	err := run(ctx, []string{"get", tpath, "-d", dir, "--port", "0", "--bind", "127.0.0.1", "-q"}, &out, &out)
	require.Error(t, err)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "files left by an interrupted get")
}

// seederAt seeds the content of mi in dir from a swarm of its own, with no tracker, and
// returns its address.
func seederAt(t *testing.T, mi *metainfo.MetaInfo, dir string) string {
	t.Helper()
	st, err := storage.OpenFiles(&mi.Info, dir)
	require.NoError(t, err)
	full := bitfield.New(mi.Info.NumPieces())
	for i := range mi.Info.NumPieces() {
		full.Set(i)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	sw, err := peer.New(peer.Config{Info: &mi.Info, InfoHash: mi.InfoHash, Storage: st, Have: full,
		Listener: ln, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = sw.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait(); _ = st.Close() })
	return ln.Addr().String()
}

// TestGetWithUnusableTracker: a torrent whose only tracker swarm cannot use still downloads
// from --peer, and get says which tracker it skips (regression: "no tracker urls").
func TestGetWithUnusableTracker(t *testing.T) {
	seedDir := t.TempDir()
	tpath, data := writeTorrent(t, seedDir, "wss-only.bin", 100<<10, "wss://tracker.example/announce")
	mi, err := metainfo.Load(tpath)
	require.NoError(t, err)
	addr := seederAt(t, mi, seedDir)
	getDir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	stdout, stderr, err := runCmdCtx(ctx, "get", tpath, "-d", getDir, "--port", "0", "--bind", "127.0.0.1", "--peer", addr, "-q")
	require.NoError(t, err, "%s%s", stdout, stderr)
	assert.Contains(t, stderr, `wss-only.bin: skipping tracker "wss://tracker.example/announce": want an http://, https:// or udp:// URL`)
	assert.NotContains(t, stderr, "no peer sources", "--peer is one")
	got, err := os.ReadFile(filepath.Join(getDir, "wss-only.bin"))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(data, got))
}

// TestGetNoPeerSources: with no usable tracker and no --peer, get says that nothing will
// find peers, instead of sitting at 0% without a word.
func TestGetNoPeerSources(t *testing.T) {
	tpath, _ := writeTorrent(t, t.TempDir(), "alone.bin", 10<<10, "ftp://nowhere.example/")
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, stderr, err := runCmdCtx(ctx, "get", tpath, "-d", t.TempDir(), "--port", "0", "--bind", "127.0.0.1", "-q")
	require.Error(t, err)
	assert.Contains(t, stderr, "alone.bin: no peer sources: no tracker swarm can use and no --peer")
}

func runCmdCtx(ctx context.Context, args ...string) (string, string, error) {
	var out, errOut bytes.Buffer
	err := run(ctx, args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// TestSeedRefusesMissingContent: `seed x.torrent -d typo` says that none of the content is
// there and exits 1, creating nothing (regression: it made empty files and started to
// download); --allow-missing starts anyway.
func TestSeedRefusesMissingContent(t *testing.T) {
	tpath, _ := writeTorrent(t, t.TempDir(), "album.bin", 50<<10, "http://127.0.0.1:1/announce")
	typo := filepath.Join(t.TempDir(), "Musci")
	_, _, err := runCmd(t, "seed", tpath, "-d", typo, "--port", "0", "-q")
	require.Error(t, err)
	assert.Equal(t, exitFailed, exitCode(err))
	assert.ErrorIs(t, err, errNoContent)
	assert.Contains(t, err.Error(), "seed album.bin: none of the content is there in "+typo)
	assert.Contains(t, err.Error(), "--allow-missing")
	assert.NoDirExists(t, typo, "nothing made")

	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, _, err = runCmdCtx(ctx, "seed", tpath, "-d", typo, "--port", "0", "--bind", "127.0.0.1", "-q", "--allow-missing")
	assert.NotErrorIs(t, err, errNoContent)
	assert.Equal(t, exitIncomplete, exitCode(err), "%v", err)
}

func TestSessionFlagsRefused(t *testing.T) {
	tpath, _ := writeTorrent(t, t.TempDir(), "f.bin", 1000, "http://127.0.0.1:1/announce")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"get", tpath, "--max-peers", "0"}, "--max-peers 0: want 1 or more"},
		{[]string{"seed", tpath, "--max-peers", "-1"}, "--max-peers -1: want 1 or more"},
		{[]string{"seed", tpath, "--max-conns-per-ip", "0"}, "--max-conns-per-ip 0: want 1 or more"},
		{[]string{"get", tpath, "--seed-ratio", "-1"}, "--seed-ratio -1: want 0 (off) or a positive ratio"},
		{[]string{"get", tpath, "--seed-ratio", "NaN"}, "--seed-ratio NaN"},
		{[]string{"get", tpath, "--seed-time", "-5m"}, "--seed-time -5m0s: want 0 (off)"},
		{[]string{"seed", tpath, "--recheck-every", "-1s"}, "--recheck-every -1s"},
		{[]string{"get", tpath, "--bind", "localhost"}, `--bind "localhost": want an IP address`},
		{[]string{"seed", "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=x"}, "a magnet link: seed reads .torrent files; swarm get MAGNET --seed"},
		{[]string{"get", "https://example.com/x.torrent"}, "https://example.com/x.torrent: a web address: get and seed read .torrent files from disk"},
	} {
		t.Run(strings.Join(tc.args[1:], " "), func(t *testing.T) {
			_, _, err := runCmd(t, tc.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "no such file")
		})
	}
}

// TestBindErrorNamesPort: an address that is not ours fails with the port asked for
// (regression: the fallback from the default port made it name port 0).
func TestBindErrorNamesPort(t *testing.T) {
	tpath, _ := writeTorrent(t, t.TempDir(), "b.bin", 1000, "http://127.0.0.1:1/announce")
	_, _, err := runCmd(t, "get", tpath, "-d", t.TempDir(), "--bind", "192.0.2.1", "-q")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "192.0.2.1:6881")
	assert.NotContains(t, err.Error(), ":0:")
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"create"}, "create: missing PATH (usage: swarm create PATH [-a URL[,URL...]]... [-o out.torrent] [flags])"},
		{[]string{"create", "a", "b"}, `create: want PATH, got 2 arguments ["a" "b"] (usage: swarm create PATH`},
		{[]string{"get"}, "get: missing FILE.torrent|MAGNET... (usage: swarm get FILE.torrent|MAGNET... [-d DIR] [flags])"},
		{[]string{"seed"}, "seed: missing FILE.torrent (usage: swarm seed FILE.torrent"},
		{[]string{"info"}, "info: missing FILE.torrent|MAGNET (usage: swarm info"},
		{[]string{"demo", "now"}, `demo: takes no arguments, got ["now"] (usage: swarm demo [flags])`},
		{[]string{"get", "x.torrent", "--nope"}, "get: unknown flag: --nope (usage: swarm get FILE.torrent"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, _, err := runCmd(t, tc.args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}

func TestOperands(t *testing.T) {
	for use, want := range map[string][]string{
		"create PATH [-a URL[,URL...]]... [-o out.torrent]": {"PATH"},
		"ctl [--url URL] [--token-file FILE] COMMAND":       {"COMMAND"},
		"get FILE.torrent [-d DIR]":                         {"FILE.torrent"},
		"demo":                                              nil,
	} {
		assert.Equal(t, want, operands(use), use)
	}
}

func TestVersion(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/swarm-bt/swarm", Version: "v0.3.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}}
	assert.Equal(t, "v0.3.0 (commit 0123456789ab, modified, go1.26.8)", version(info, true))
	assert.Equal(t, "(devel) (go1.26.8)", version(&debug.BuildInfo{GoVersion: "go1.26.8"}, true))
	assert.Equal(t, "unknown (no build information)", version(nil, false))
	stdout, _, err := runCmd(t, "--version")
	require.NoError(t, err)
	assert.Regexp(t, `^swarm \S+.*\n$`, stdout)
}

func TestCompletionSuggestsTorrents(t *testing.T) {
	for _, c := range []string{"get", "seed", "info"} {
		stdout, _, err := runCmd(t, "__complete", c, "")
		require.NoError(t, err)
		assert.Equal(t, "torrent\n:8\n", stdout, c) // 8: cobra.ShellCompDirectiveFilterFileExt
	}
	stdout, _, err := runCmd(t, "__complete", "create", "")
	require.NoError(t, err)
	assert.NotContains(t, stdout, "torrent", "create takes any file or folder")
}

func TestCreateRefusesBadTrackers(t *testing.T) {
	src := createPayload(t)
	for _, tc := range []struct{ url, want string }{
		{"notaurl", `tracker "notaurl": want an http://, https:// or udp:// URL`},
		{"ftp://t.example/announce", `tracker "ftp://t.example/announce": want an http://`},
		{"http://", `tracker "http://": no host`},
		{"udp://t.example/announce", `tracker "udp://t.example/announce": a udp tracker needs a port`},
		{"http://t.example:6969/announce,%zz", `tracker "%zz": not a URL`},
	} {
		_, _, err := runCmd(t, "create", src, "-a", tc.url, "-o", filepath.Join(t.TempDir(), "x.torrent"))
		require.Error(t, err, tc.url)
		assert.Contains(t, err.Error(), "create: --announce: "+tc.want)
	}
	_, _, err := runCmd(t, "create", src, "-a", "udp://t.example:6969/announce,https://t.example/announce",
		"-o", filepath.Join(t.TempDir(), "ok.torrent"))
	require.NoError(t, err, "udp, with a port, and https are fine")
}

func TestCreatePieceLengthAndName(t *testing.T) {
	src := createPayload(t)
	out := filepath.Join(t.TempDir(), "x.torrent")
	_, _, err := runCmd(t, "create", src, "-l", "18", "-n", "holiday-photos", "-o", out)
	require.NoError(t, err)
	mi, err := metainfo.Load(out)
	require.NoError(t, err)
	assert.Equal(t, int64(1<<18), mi.Info.PieceLength, "-l 18 is mktorrent's 2^18")
	assert.Equal(t, "holiday-photos", mi.Info.Name)

	dir := t.TempDir()
	t.Chdir(dir)
	_, _, err = runCmd(t, "create", src, "--name", "renamed", "-q")
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(dir, "renamed.torrent"), "the default output follows --name")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-l", "30"}, "--piece-length 30: 2^30 is out of range: want an exponent from 14 to 27"},
		{[]string{"-l", "13"}, "2^13 is out of range"},
		{[]string{"-n", "a/b"}, `contains a separator`},
		{[]string{"--workers", "-3"}, "--workers -3: want 1 or more"},
	} {
		_, _, err := runCmd(t, append([]string{"create", src, "-o", filepath.Join(t.TempDir(), "y.torrent")}, tc.args...)...)
		require.Error(t, err, tc.args)
		assert.Contains(t, err.Error(), tc.want)
	}
}

// TestDemoRefusesUpFront: sizes create would refuse are refused before any work.
func TestDemoRefusesUpFront(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--size", "0"}, "--size 0: want at least 1 byte"},
		{[]string{"--piece-length", "3KiB"}, "--piece-length 3KiB: want a power of two from 16KiB to 128MiB"},
	} {
		stdout, _, err := runCmd(t, append([]string{"demo"}, tc.args...)...)
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
		assert.NotContains(t, stdout, "making", "refused before making the payload")
	}
}

// TestLastCompletion: the demo's elapsed time is when the last leecher completed, not the
// next redraw of its table.
func TestLastCompletion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		a, b := make(chan struct{}), make(chan struct{})
		done := lastCompletion(t.Context(), []<-chan struct{}{a, b})
		time.Sleep(1234 * time.Millisecond)
		close(b)
		time.Sleep(3210 * time.Millisecond)
		close(a)
		time.Sleep(time.Second)
		assert.Equal(t, 4444*time.Millisecond, (<-done).Sub(start))
	})
}
