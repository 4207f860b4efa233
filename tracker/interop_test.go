package tracker_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/internal/testenv"
	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/tracker"
	"github.com/swarm-bt/swarm/tracker/trackertest"
)

// TestInteropOpentracker: our client announces to and scrapes a real opentracker.
func TestInteropOpentracker(t *testing.T) {
	testenv.NeedTools(t, "opentracker")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	h, other := trackertest.Hash(1), trackertest.Hash(2)
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o755)) // opentracker drops to nobody after chroot
	require.NoError(t, os.WriteFile(filepath.Join(dir, "whitelist"), []byte(h.String()+"\n"), 0o644))
	port := itoaPort(freePort(t))
	// Debian's build is the whitelist build: -w is relative to the -d folder it chroots into.
	startProc(ctx, t, "opentracker", "-i", "127.0.0.1", "-p", port, "-P", port, "-d", dir, "-w", "whitelist")

	announce := "http://127.0.0.1:" + port + "/announce"
	c, err := tracker.NewClient(tracker.ClientConfig{Tiers: [][]string{{announce}}, Rand: rand.New(rand.NewPCG(1, 1))})
	require.NoError(t, err)
	// opentracker accepts connections before it has read its whitelist, and refuses the
	// hash until then ("Requested download is not authorized"): it is ready when the first
	// announce succeeds, not when its port is open.
	resp, err := announceWhenReady(ctx, c, tracker.AnnounceRequest{InfoHash: h, PeerID: trackertest.ID(1), Port: 7001, Left: 0, Event: tracker.EventStarted})
	require.NoError(t, err)
	assert.Positive(t, resp.Interval)
	assert.Equal(t, 1, resp.Complete)

	resp, err = c.Announce(ctx, tracker.AnnounceRequest{InfoHash: h, PeerID: trackertest.ID(2), Port: 7002, Left: 100, Event: tracker.EventStarted, NumWant: 10})
	require.NoError(t, err)
	assert.Equal(t, 1, resp.Complete)
	assert.Equal(t, 1, resp.Incomplete)
	var addrs []netip.AddrPort
	for _, p := range resp.Peers {
		addrs = append(addrs, p.Addr)
	}
	assert.Contains(t, addrs, netip.MustParseAddrPort("127.0.0.1:7001"), "the seeder is listed")

	counts, err := c.Scrape(ctx, h)
	require.NoError(t, err)
	assert.Equal(t, 1, counts[h].Complete)
	assert.Equal(t, 1, counts[h].Incomplete)

	_, err = c.Announce(ctx, tracker.AnnounceRequest{InfoHash: other, PeerID: trackertest.ID(3), Port: 7003, Left: 1})
	_, isFailure := errors.AsType[*tracker.FailureError](err)
	assert.True(t, isFailure, "a non-whitelisted hash gets a failure reason: %v", err)
}

// announceWhenReady repeats req every 20 ms until it succeeds or ctx ends, and returns the
// last result. Announcing again after a refused announce is harmless: the tracker stored
// nothing.
func announceWhenReady(ctx context.Context, c *tracker.Client, req tracker.AnnounceRequest) (tracker.AnnounceResponse, error) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := c.Announce(ctx, req)
		if err == nil {
			return resp, nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return resp, fmt.Errorf("tracker not ready: %w", err)
		}
	}
}

// TestInteropLibtorrentToAria2: a libtorrent seeder and an aria2 leecher find each other through
// our tracker, running in-process, and the leecher's bytes match.
func TestInteropLibtorrentToAria2(t *testing.T) {
	testenv.NeedTools(t, "aria2c", "mktorrent")
	testenv.NeedLibtorrent(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	srv, err := tracker.New(tracker.Config{Interval: 2 * time.Second})
	require.NoError(t, err)
	var queries logBuffer
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = queries.Write([]byte(r.UserAgent() + " " + r.URL.RawQuery + "\n"))
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("announces:\n%s", queries.String())
		}
	})

	seedDir, leechDir := t.TempDir(), t.TempDir()
	payload := makePayload(t, seedDir, "payload.bin", 1<<20)
	torrent := mktorrent(t, seedDir, "payload.bin", hs.URL+"/announce")
	m, err := metainfo.Load(torrent)
	require.NoError(t, err)

	script, err := filepath.Abs("testdata/interop/lt_session.py")
	require.NoError(t, err)
	_, ltLog := startProc(ctx, t, "/usr/bin/python3", script, torrent, seedDir, itoaPort(freePort(t)))
	waitLine(ctx, t, ltLog, "seeding")
	waitSeeders(ctx, t, srv, m.InfoHash, 1)

	aria := exec.CommandContext(ctx, "aria2c",
		"--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
		"--interface=127.0.0.1", "--listen-port="+itoaPort(freePort(t)), "--seed-time=0",
		"--file-allocation=none", "--console-log-level=warn", "--summary-interval=0",
		"--dir="+leechDir, torrent)
	out, err := aria.CombinedOutput()
	require.NoError(t, err, "aria2c:\n%s", out)

	got, err := os.ReadFile(filepath.Join(leechDir, "payload.bin"))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(payload, got), "aria2 downloaded the seeder's bytes")
	// aria2 may exit before its final announce has been answered; wait for it.
	waitFor(ctx, t, "aria2's download to be counted", func() bool {
		c := scrapeOne(t, srv, m.InfoHash)
		return c.Downloaded == 1
	})
}

// waitSeeders waits until the store lists n seeders for h.
func waitSeeders(ctx context.Context, t *testing.T, srv *tracker.Server, h metainfo.Hash, n int) {
	t.Helper()
	waitFor(ctx, t, "seeders", func() bool {
		c := scrapeOne(t, srv, h)
		return c.Complete >= n
	})
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		}
	}
}
