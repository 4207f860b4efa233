package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/tracker"
	"github.com/swarm-bt/swarm/tracker/trackertest"
)

// startTestTracker serves an open tracker on loopback for the test's lifetime.
func startTestTracker(t *testing.T) string {
	t.Helper()
	_, announce := trackertest.Start(t, tracker.Config{Interval: 2 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	return announce
}

// writeTorrent makes a payload of size random bytes under dir/name and its torrent.
func writeTorrent(t *testing.T, dir, name string, size int64, announce string) (string, []byte) {
	t.Helper()
	data := make([]byte, size)
	rng := rand.NewChaCha8([32]byte{byte(size)})
	_, _ = rng.Read(data)
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, data, 0o644))
	mi, err := metainfo.Create(context.Background(), metainfo.CreateConfig{
		Path: path, PieceLength: 32 << 10, Announce: [][]string{{announce}},
	})
	require.NoError(t, err)
	b, err := mi.Marshal()
	require.NoError(t, err)
	tpath := filepath.Join(t.TempDir(), name+".torrent")
	require.NoError(t, os.WriteFile(tpath, b, 0o644))
	return tpath, data
}

func TestSeedAndGet(t *testing.T) {
	announce := startTestTracker(t)
	seedDir, getDir := t.TempDir(), t.TempDir()
	tpath, data := writeTorrent(t, seedDir, "payload.bin", 1<<20+777, announce)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	seedCtx, stopSeed := context.WithCancel(ctx)
	var seedErr error
	var seedOut bytes.Buffer
	var wg sync.WaitGroup
	wg.Go(func() {
		seedErr = run(seedCtx, []string{"seed", tpath, "-d", seedDir, "--port", "0", "--bind", "127.0.0.1", "-q"}, &seedOut, &seedOut)
	})
	statsPath := filepath.Join(t.TempDir(), "stats.json")
	marker := filepath.Join(t.TempDir(), "done")
	var out, errOut bytes.Buffer
	err := run(ctx, []string{"get", tpath, "-d", getDir, "--port", "0", "--bind", "127.0.0.1",
		"--stats", statsPath, "--on-complete", "touch " + marker, "--fsync"}, &out, &errOut)
	stopSeed()
	wg.Wait()
	require.NoError(t, err, errOut.String())
	assert.NoError(t, seedErr, "a seed stopped by a signal exits 0: %s", seedOut.String())

	got, err := os.ReadFile(filepath.Join(getDir, "payload.bin"))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(data, got), "downloaded bytes differ")
	assert.Contains(t, out.String(), "complete")
	assert.FileExists(t, marker, "--on-complete ran")

	var stats struct {
		Torrents []sessionStats `json:"torrents"`
	}
	b, err := os.ReadFile(statsPath)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &stats))
	require.Len(t, stats.Torrents, 1)
	assert.True(t, stats.Torrents[0].Complete)
	assert.GreaterOrEqual(t, stats.Torrents[0].Downloaded, int64(len(data)))
	if tr := stats.Torrents[0].Tracker; assert.NotNil(t, tr, "the stats name the tracker's state") {
		assert.Zero(t, tr.Failures)
		assert.Empty(t, tr.LastError)
		assert.False(t, tr.LastAnnounce.IsZero())
	}
}

func TestGetInterruptedExitsIncomplete(t *testing.T) {
	// No seeder: the download cannot progress, and stopping it must say so.
	announce := startTestTracker(t)
	tpath, _ := writeTorrent(t, t.TempDir(), "lonely.bin", 100<<10, announce)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, []string{"get", tpath, "-d", t.TempDir(), "--port", "0", "-q"}, &out, &out)
	require.Error(t, err)
	assert.Equal(t, exitIncomplete, exitCode(err))
	assert.Contains(t, err.Error(), "0 of 4 pieces")
}

func TestSessionBadArguments(t *testing.T) {
	tpath, _ := writeTorrent(t, t.TempDir(), "x.bin", 1000, "http://127.0.0.1:1/announce")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no torrent", []string{"get"}, "get: missing FILE.torrent|MAGNET... (usage: swarm get FILE.torrent|MAGNET..."},
		{"missing file", []string{"get", filepath.Join(t.TempDir(), "nope.torrent")}, "no such file"},
		{"bad rate", []string{"get", tpath, "--up-rate", "fast"}, "--up-rate"},
		{"bad down rate", []string{"seed", tpath, "--down-rate", "-3"}, "--down-rate"},
		{"bad peer", []string{"get", tpath, "--peer", "nowhere"}, "--peer"},
		{"bad port", []string{"get", tpath, "--port", "70000", "-d", t.TempDir()}, "--port 70000: want 0 (any free port) to 65535"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), tc.args, &out, &out)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.False(t, strings.Contains(err.Error(), "\n"), "one line: %q", err.Error())
		})
	}
}

func TestDemo(t *testing.T) {
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	err := run(ctx, []string{"demo", "--size", "3MiB", "--leechers", "3", "--piece-length", "64KiB"}, &out, &out)
	require.NoError(t, err, out.String())
	assert.Contains(t, out.String(), "3 leechers downloaded 3 MiB")
	assert.Contains(t, out.String(), "every copy verified")
}

// TestSeedAndGetMany: one `swarm seed` serves two torrents on one port, one `swarm get`
// fetches both, exits 0 once both are complete, and --stats lists both.
func TestSeedAndGetMany(t *testing.T) {
	announce := startTestTracker(t)
	seedDir, getDir := t.TempDir(), t.TempDir()
	apath, adata := writeTorrent(t, seedDir, "a.bin", 700<<10, announce)
	bpath, bdata := writeTorrent(t, seedDir, "b.bin", 1<<20+5, announce)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	seedCtx, stopSeed := context.WithCancel(ctx)
	var seedErr error
	var seedOut lockedBuffer
	var wg sync.WaitGroup
	wg.Go(func() {
		seedErr = run(seedCtx, []string{"seed", apath, bpath, "-d", seedDir, "--port", "0", "--bind", "127.0.0.1",
			"-q", "--log-level", "info"}, &seedOut, &seedOut)
	})
	statsPath := filepath.Join(t.TempDir(), "stats.json")
	var out bytes.Buffer
	err := run(ctx, []string{"get", apath, bpath, "-d", getDir, "--port", "0", "--bind", "127.0.0.1", "-q",
		"--stats", statsPath}, &out, &out)
	stopSeed()
	wg.Wait()
	require.NoError(t, err, out.String())
	assert.NoError(t, seedErr, seedOut.String())
	for name, data := range map[string][]byte{"a.bin": adata, "b.bin": bdata} {
		got, err := os.ReadFile(filepath.Join(getDir, name))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(data, got), "%s differs", name)
	}
	ports := regexp.MustCompile(`msg="swarm started".* config\.port=(\d+)`).FindAllStringSubmatch(seedOut.String(), -1)
	require.Len(t, ports, 2, seedOut.String())
	assert.Equal(t, ports[0][1], ports[1][1], "both torrents behind one port")

	var stats struct {
		Torrents []sessionStats `json:"torrents"`
	}
	b, err := os.ReadFile(statsPath)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &stats))
	require.Len(t, stats.Torrents, 2)
	for _, ts := range stats.Torrents {
		assert.True(t, ts.Complete, ts.Name)
	}
}

func TestSessionSameTorrentTwice(t *testing.T) {
	tpath, _ := writeTorrent(t, t.TempDir(), "x.bin", 1000, "http://127.0.0.1:1/announce")
	var out bytes.Buffer
	err := run(context.Background(), []string{"seed", tpath, tpath, "-d", t.TempDir(), "--port", "0"}, &out, &out)
	require.ErrorContains(t, err, "the same torrent as")
}
