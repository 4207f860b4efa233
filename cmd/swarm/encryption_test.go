package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEncryptionFlag: a seed and a get that both require encryption transfer over RC4, and
// --stats says so per peer.
func TestEncryptionFlag(t *testing.T) {
	announce := startTestTracker(t)
	seedDir, getDir := t.TempDir(), t.TempDir()
	tpath, data := writeTorrent(t, seedDir, "enc.bin", 1<<20+3, announce)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	seedCtx, stopSeed := context.WithCancel(ctx)
	var seedErr error
	var seedOut bytes.Buffer
	var wg sync.WaitGroup
	wg.Go(func() {
		seedErr = run(seedCtx, []string{"seed", tpath, "-d", seedDir, "--port", "0", "--bind", "127.0.0.1",
			"-q", "--encryption", "require"}, &seedOut, &seedOut)
	})
	statsPath := filepath.Join(t.TempDir(), "stats.json")
	var out bytes.Buffer
	// The rate limit keeps the transfer over several display ticks, which sample the peers.
	err := run(ctx, []string{"get", tpath, "-d", getDir, "--port", "0", "--bind", "127.0.0.1", "-q",
		"--encryption", "require", "--down-rate", "512KiB/s", "--stats", statsPath}, &out, &out)
	stopSeed()
	wg.Wait()
	require.NoError(t, err, out.String())
	require.NoError(t, seedErr, seedOut.String())
	got, err := os.ReadFile(filepath.Join(getDir, "enc.bin"))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(data, got), "downloaded bytes differ")

	var stats struct {
		Torrents []sessionStats `json:"torrents"`
	}
	b, err := os.ReadFile(statsPath)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &stats))
	require.Len(t, stats.Torrents, 1)
	require.NotEmpty(t, stats.Torrents[0].Peers)
	for _, p := range stats.Torrents[0].Peers {
		assert.Equal(t, "rc4", p.Encryption, "peer %s", p.Addr)
	}
}

func TestEncryptionFlagInvalid(t *testing.T) {
	tpath, _ := writeTorrent(t, t.TempDir(), "x.bin", 1000, "http://127.0.0.1:1/announce")
	var out bytes.Buffer
	err := run(context.Background(), []string{"get", tpath, "-d", t.TempDir(), "--encryption", "always"}, &out, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--encryption")
	assert.Contains(t, err.Error(), "prefer, require or off")
}
