package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startTracker runs `swarm tracker` with args on an ephemeral port and returns its base URL
// and a function that stops it and returns run's error.
func startTracker(t *testing.T, args ...string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"tracker", "--listen", "127.0.0.1:0"}, args...), pw, io.Discard)
		pw.CloseWithError(io.EOF)
		done <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err, "first line of output")
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	url := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(line), "tracker listening on "), "/announce")
	stop := sync.OnceValue(func() error { cancel(); return <-done })
	t.Cleanup(func() { _ = stop() })
	return url, stop
}

func TestTrackerCommandServesAndStops(t *testing.T) {
	url, stop := startTracker(t, "--interval", "1m", "--full-scrape")
	resp, err := http.Get(url + "/healthz")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, "ok\n", string(body))

	resp, err = http.Get(url + "/scrape")
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, "d5:filesdee", string(body), "full scrape is on")
	assert.NoError(t, stop(), "cancel means a clean shutdown")
}

func TestTrackerCommandAllowList(t *testing.T) {
	p := filepath.Join(t.TempDir(), "allow.txt")
	require.NoError(t, os.WriteFile(p, []byte("0102030405060708090a0b0c0d0e0f1011121314\n"), 0o600))
	url, stop := startTracker(t, "--allow", p)
	q := "/announce?peer_id=-SW0001-abcdefghijkl&port=1&left=1&info_hash="
	get := func(hash string) string {
		resp, err := http.Get(url + q + hash)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(b)
	}
	assert.NotContains(t, get("%01%02%03%04%05%06%07%08%09%0A%0B%0C%0D%0E%0F%10%11%12%13%14"), "failure")
	assert.Contains(t, get("%01%02%03%04%05%06%07%08%09%0A%0B%0C%0D%0E%0F%10%11%12%13%15"), "not allowed")
	require.NoError(t, stop())
}

func TestTrackerCommandBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"tracker", "--interval", "0s"},
		{"tracker", "--interval", "500ms"},
		{"tracker", "--rate", "-1"},
		{"tracker", "--allow", "/nonexistent/allow"},
		{"tracker", "--listen", "256.0.0.1:bad"},
		{"tracker", "--new-swarms-per-minute", "-1"},
		{"tracker", "--store", "memcached://127.0.0.1:11211"},
		{"tracker", "--store", "redis-cluster://"},
		{"tracker", "--store", "redis://127.0.0.1:6379/notadb"},
	} {
		err := run(t.Context(), args, io.Discard, io.Discard)
		assert.Error(t, err, "%v", args)
	}
}
