package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/metainfo"
)

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

// TestGetMagnet: swarm get of a magnet link whose only peer is an x.pe seeder fetches the
// metadata, downloads, writes --save-torrent, records the peer's source, and a second run
// takes the metadata from the cache (the seeder is gone by then).
func TestGetMagnet(t *testing.T) {
	seedDir, getDir, cache := t.TempDir(), t.TempDir(), t.TempDir()
	tpath, data := writeTorrent(t, seedDir, "magnet.bin", 700<<10+3, "http://127.0.0.1:1/announce")
	mi, err := metainfo.Load(tpath)
	require.NoError(t, err)
	port := freePort(t)
	link := metainfo.Magnet{InfoHash: mi.InfoHash, Name: "magnet.bin", Peers: []string{"127.0.0.1:" + strconv.Itoa(port)}}.String()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stopSeed := seedInBackground(ctx, tpath, seedDir, port)
	saved := filepath.Join(t.TempDir(), "saved.torrent")
	statsPath := filepath.Join(t.TempDir(), "stats.json")
	var out, errOut bytes.Buffer
	err = run(ctx, []string{"get", link, "-d", getDir, "--port", "0", "--bind", "127.0.0.1", "--metadata-cache", cache,
		"--save-torrent", saved, "--stats", statsPath, "--down-rate", "512KiB/s"}, &out, &errOut)
	stopSeed()
	require.NoError(t, err, errOut.String())
	assert.Contains(t, errOut.String(), "fetching metadata", "the progress view says so")

	got, err := os.ReadFile(filepath.Join(getDir, "magnet.bin"))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(data, got), "downloaded bytes differ")
	sm, err := metainfo.Load(saved)
	require.NoError(t, err)
	assert.Equal(t, mi.InfoHash, sm.InfoHash)
	assert.FileExists(t, filepath.Join(cache, mi.InfoHash.String()+".torrent"))

	var stats struct {
		Torrents []sessionStats `json:"torrents"`
	}
	b, err := os.ReadFile(statsPath)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &stats))
	require.Len(t, stats.Torrents, 1)
	require.NotEmpty(t, stats.Torrents[0].Peers)
	p := stats.Torrents[0].Peers[0]
	assert.Equal(t, "magnet", p.Source)
	assert.Equal(t, "swarm 0.1.0", p.Client)
	assert.Equal(t, "SW 0100", p.PeerIDClient)
	assert.True(t, p.Extensions)
	assert.True(t, p.Fast)

	// Again, with no seeder: the metadata comes from the cache and the content is complete.
	out.Reset()
	errOut.Reset()
	err = run(ctx, []string{"get", link, "-d", getDir, "--port", "0", "--bind", "127.0.0.1", "--metadata-cache", cache, "-q"}, &out, &errOut)
	require.NoError(t, err, errOut.String())
	assert.NotContains(t, errOut.String(), "fetching metadata")
}

func TestGetMagnetErrors(t *testing.T) {
	tests := []struct{ link, want string }{
		{"magnet:?xt=urn:btmh:1220aabb", "v2"},
		{"magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&x.pe=nowhere", `x.pe "nowhere"`},
		{"magnet:?dn=x", "no xt=urn:btih:"},
		// no peers, no trackers: nothing to fetch from
		{"magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a", "no peer to fetch the metadata from"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var out bytes.Buffer
			err := run(ctx, []string{"get", tt.link, "-d", t.TempDir(), "--port", "0", "--metadata-cache", t.TempDir(), "-q"}, &out, &out)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestGetMagnetPeersAreSources: the peers of a magnet link (x.pe) are peer sources: a link
// with no tracker swarm can use downloads from them without the "no peer sources" warning
// (it said so, then downloaded).
func TestGetMagnetPeersAreSources(t *testing.T) {
	seedDir, getDir := t.TempDir(), t.TempDir()
	tpath, data := writeTorrent(t, seedDir, "linked.bin", 100<<10, "ftp://nowhere.example/")
	mi, err := metainfo.Load(tpath)
	require.NoError(t, err)
	port := freePort(t)
	link := metainfo.Magnet{InfoHash: mi.InfoHash, Peers: []string{"127.0.0.1:" + strconv.Itoa(port)}}.String()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stopSeed := seedInBackground(ctx, tpath, seedDir, port)
	var out, errOut bytes.Buffer
	err = run(ctx, []string{"get", link, "-d", getDir, "--port", "0", "--bind", "127.0.0.1", "-q",
		"--metadata-cache", t.TempDir()}, &out, &errOut)
	stopSeed()
	require.NoError(t, err, errOut.String())
	assert.NotContains(t, errOut.String(), "no peer sources")
	got, err := os.ReadFile(filepath.Join(getDir, "linked.bin"))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(data, got), "downloaded bytes differ")
}

// seedInBackground runs `swarm seed` of tpath from dir on 127.0.0.1:port until the returned
// stop is called; stop waits for it to end.
func seedInBackground(ctx context.Context, tpath, dir string, port int) (stop func()) {
	seedCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var out bytes.Buffer
	wg.Go(func() {
		_ = run(seedCtx, []string{"seed", tpath, "-d", dir, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "-q"}, &out, &out)
	})
	return func() { cancel(); wg.Wait() }
}
