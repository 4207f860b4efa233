package tracker_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/internal/testenv"
	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/tracker"
	"github.com/swarm-bt/swarm/tracker/trackertest"
)

// startTestTracker runs our tracker in-process on loopback with a short interval.
func startTestTracker(t *testing.T) (*tracker.Server, string) {
	return trackertest.Start(t, tracker.Config{})
}

// TestInteropAria2ToLibtorrent: an aria2 seeder and a libtorrent leecher find each other
// through our tracker.
func TestInteropAria2ToLibtorrent(t *testing.T) {
	testenv.NeedTools(t, "aria2c", "mktorrent")
	testenv.NeedLibtorrent(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	srv, announce := startTestTracker(t)
	seedDir, leechDir := t.TempDir(), t.TempDir()
	payload := makePayload(t, seedDir, "payload.bin", 1<<20)
	torrent := mktorrent(t, seedDir, "payload.bin", announce)
	m, err := metainfo.Load(torrent)
	require.NoError(t, err)

	startProc(ctx, t, "aria2c",
		"--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
		"--interface=127.0.0.1", "--listen-port="+itoaPort(freePort(t)), "--seed-ratio=0.0",
		"--check-integrity=true", "--bt-seed-unverified=false", "--console-log-level=warn",
		"--summary-interval=0", "--dir="+seedDir, torrent)
	waitSeeders(ctx, t, srv, m.InfoHash, 1)

	script, err := filepath.Abs("testdata/interop/lt_session.py")
	require.NoError(t, err)
	_, ltLog := startProc(ctx, t, "/usr/bin/python3", script, torrent, leechDir, itoaPort(freePort(t)))
	waitLine(ctx, t, ltLog, "seeding")
	got, err := os.ReadFile(filepath.Join(leechDir, "payload.bin"))
	require.NoError(t, err)
	require.True(t, bytes.Equal(payload, got), "libtorrent downloaded the seeder's bytes")
}

// TestInteropLibtorrentToTransmission: Transmission 3.00 ignores tracker peers on loopback as a
// leecher, so this shows the other half of the tracker's job: the libtorrent seeder learns the
// Transmission leecher's address from our tracker and dials it (INTEROP-NOTES).
func TestInteropLibtorrentToTransmission(t *testing.T) {
	testenv.NeedTools(t, "transmission-cli", "mktorrent")
	testenv.NeedLibtorrent(t)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	srv, announce := startTestTracker(t)
	seedDir, leechDir, confDir := t.TempDir(), t.TempDir(), t.TempDir()
	payload := makePayload(t, seedDir, "payload.bin", 1<<20)
	torrent := mktorrent(t, seedDir, "payload.bin", announce)
	m, err := metainfo.Load(torrent)
	require.NoError(t, err)

	script, err := filepath.Abs("testdata/interop/lt_session.py")
	require.NoError(t, err)
	_, ltLog := startProc(ctx, t, "/usr/bin/python3", script, torrent, seedDir, itoaPort(freePort(t)))
	waitLine(ctx, t, ltLog, "seeding")
	waitSeeders(ctx, t, srv, m.InfoHash, 1)

	settings := `{"dht-enabled": false, "lpd-enabled": false, "pex-enabled": false, "utp-enabled": false,
 "port-forwarding-enabled": false, "bind-address-ipv4": "127.0.0.1", "rpc-enabled": false,
 "speed-limit-up-enabled": false, "speed-limit-down-enabled": false}`
	require.NoError(t, os.WriteFile(filepath.Join(confDir, "settings.json"), []byte(settings), 0o600))
	startProc(ctx, t, "transmission-cli", "-g", confDir, "-w", leechDir, "-p", itoaPort(freePort(t)), "-M", torrent)

	want := filepath.Join(leechDir, "payload.bin")
	waitFor(ctx, t, "transmission to complete", func() bool {
		got, err := os.ReadFile(want)
		return err == nil && bytes.Equal(payload, got)
	})
}
