package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// daemon is a transmission-daemon with its own config folder, driven by transmission-remote.
type daemon struct {
	rpc  string // host:port of its RPC endpoint
	proc *proc
}

// transmissionSettings turns off everything that reaches beyond the test (DHT, LPD, PEX, uTP,
// port forwarding), binds peers to the daemon's own address and keeps files under their final
// names while downloading, so "100%" means the files are where the check looks.
func transmissionSettings(h host, rpcPort int, dir string, startAdded bool) map[string]any {
	return map[string]any{
		"bind-address-ipv4": h.IP, "peer-port": h.Port, "peer-port-random-on-start": false,
		"port-forwarding-enabled": false, "dht-enabled": false, "lpd-enabled": false,
		"pex-enabled": false, "utp-enabled": false, "blocklist-enabled": false,
		"rpc-enabled": true, "rpc-bind-address": "127.0.0.1", "rpc-port": rpcPort,
		"rpc-authentication-required": false, "rpc-whitelist-enabled": true,
		"rpc-whitelist": "127.0.0.1", "rpc-host-whitelist-enabled": false,
		"download-dir": dir, "incomplete-dir-enabled": false, "rename-partial-files": false,
		"start-added-torrents": startAdded, "watch-dir-enabled": false,
		"download-queue-enabled": false, "seed-queue-enabled": false,
		"ratio-limit-enabled": false, "idle-seeding-limit-enabled": false,
		"speed-limit-up-enabled": false, "speed-limit-down-enabled": false,
		"message-level": 3,
	}
}

// startDaemon runs transmission-daemon in the foreground with a fresh config folder; extra
// settings override the defaults.
func startDaemon(t *testing.T, ctx context.Context, name string, h host, dir string, startAdded bool, extra ...map[string]any) *daemon {
	t.Helper()
	need(t, toolTransmission)
	conf := t.TempDir()
	rpcPort := freePort(t, "127.0.0.1")
	settings := transmissionSettings(h, rpcPort, dir, startAdded)
	for _, e := range extra {
		maps.Copy(settings, e)
	}
	data, err := json.MarshalIndent(settings, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(conf, "settings.json"), data, 0o644))
	d := &daemon{rpc: fmt.Sprintf("127.0.0.1:%d", rpcPort)}
	d.proc = startProc(t, ctx, name, "transmission-daemon", "-f", "-g", conf, "--log-debug")
	return d
}

// remote runs transmission-remote against the daemon.
func (d *daemon) remote(ctx context.Context, args ...string) (string, error) {
	return run(ctx, append([]string{"transmission-remote", d.rpc}, args...)...)
}

// add adds the torrent with dir as its download folder, retrying while the RPC server starts.
func (d *daemon) add(t *testing.T, ctx context.Context, tf *torrentFile, dir string) {
	t.Helper()
	var lastErr error
	err := poll(ctx, 100*time.Millisecond, func() (bool, error) {
		_, lastErr = d.remote(ctx, "-a", tf.Path, "-w", dir)
		return lastErr == nil, nil
	}, d.proc)
	require.NoError(t, err, "transmission-remote -a: %v", lastErr)
}

var (
	reState   = regexp.MustCompile(`(?m)^\s*State:\s*(.+?)\s*$`)
	rePercent = regexp.MustCompile(`(?m)^\s*Percent Done:\s*([0-9.]+)%`)
	reError   = regexp.MustCompile(`(?m)^\s*Error:\s*(.+?)\s*$`)
)

// status returns the torrent's state and percent done as transmission-remote -i prints them.
func (d *daemon) status(ctx context.Context) (state, percent string, err error) {
	out, err := d.remote(ctx, "-t", "1", "-i")
	if err != nil {
		return "", "", err
	}
	if m := reError.FindStringSubmatch(out); m != nil {
		return "", "", fmt.Errorf("transmission torrent error: %s", m[1])
	}
	if m := reState.FindStringSubmatch(out); m != nil {
		state = m[1]
	}
	if m := rePercent.FindStringSubmatch(out); m != nil {
		percent = m[1]
	}
	return state, percent, nil
}

// waitDone waits until percent done reaches 100 and the state is one of want (or any state
// when want is empty).
func (d *daemon) waitDone(ctx context.Context, want ...string) error {
	return poll(ctx, 250*time.Millisecond, func() (bool, error) {
		state, percent, err := d.status(ctx)
		if err != nil {
			return false, err
		}
		if percent != "100" {
			return false, nil
		}
		for _, w := range want {
			if state == w {
				return true, nil
			}
		}
		return len(want) == 0, nil
	}, d.proc)
}

// seedTransmission adds the torrent stopped, verifies the local data, and starts it only when
// it is complete, so that its first announce already says left=0.
func seedTransmission(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host) *node {
	return seedTransmissionWith(t, ctx, tf, dir, h, nil)
}

func seedTransmissionWith(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host, extra map[string]any) *node {
	t.Helper()
	d := startDaemon(t, ctx, "transmission-seed", h, dir, false, extra)
	d.add(t, ctx, tf, dir)
	_, err := d.remote(ctx, "-t", "1", "--verify")
	require.NoError(t, err)
	require.NoError(t, d.waitDone(ctx, "Stopped"), "transmission verifying the seed data")
	_, err = d.remote(ctx, "-t", "1", "--start")
	require.NoError(t, err)
	return &node{procs: []*proc{d.proc}}
}

func leechTransmission(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host) *node {
	return leechTransmissionWith(t, ctx, tf, dir, h, nil)
}

func leechTransmissionWith(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host, extra map[string]any) *node {
	t.Helper()
	d := startDaemon(t, ctx, "transmission-get", h, dir, true, extra)
	d.add(t, ctx, tf, dir)
	return &node{procs: []*proc{d.proc}, complete: func(ctx context.Context) error { return d.waitDone(ctx) }}
}
