package interop

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSwarmDHTTrackerless: a `swarm seed` of a torrent with no tracker announces through the
// DHT (a `swarm dht` node on loopback as the only bootstrap), and `swarm get`, given the same
// bootstrap node and nothing else, finds it and completes with the payload's sha256: once
// from the .torrent file, once from a magnet link with no tr and no x.pe.
func TestSwarmDHTTrackerless(t *testing.T) {
	for _, mode := range []string{"torrent", "magnet"} {
		t.Run(mode, func(t *testing.T) {
			start(t)
			needSwarm(t)
			ctx := caseContext(t, 90*time.Second)
			p := singlePayload(t)
			out := filepath.Join(t.TempDir(), "trackerless.torrent")
			_, err := run(ctx, env.swarm, "create", "-q", p.Root(), "-o", out,
				"--piece-length", fmt.Sprint(pieceLength), "--no-date")
			require.NoError(t, err)
			tf := readTorrent(t, out)

			dh := newHost(t)
			boot := startProc(t, ctx, "swarm-dht", env.swarm, "--log-level=debug", "dht",
				"--listen", dh.String(), "--every", "200ms")
			bootFlag := "--dht-bootstrap=" + dh.String()

			sh := newHost(t)
			seed := startProc(t, ctx, "swarm-seed", env.swarm, "--log-level=debug", "seed", "-q", tf.Path,
				"-d", p.Dir, "--bind", sh.IP, "--port", fmt.Sprint(sh.Port), bootFlag,
				"--dht-state", filepath.Join(t.TempDir(), "seed-dht.dat"))
			// The bootstrap node stores the seeder's announce (it is the only other node).
			waitLog(t, ctx, boot, `stored peers 1 in 1 torrents`)

			gh := newHost(t)
			dir := t.TempDir()
			target := tf.Path
			if mode == "magnet" {
				target = magnetLink(tf, nil)
			}
			get := startProc(t, ctx, "swarm-get", env.swarm, "--log-level=debug", "get", "-q", target,
				"-d", dir, "--bind", gh.IP, "--port", fmt.Sprint(gh.Port), bootFlag,
				"--dht-state", filepath.Join(t.TempDir(), "get-dht.dat"), "--metadata-cache", t.TempDir())
			require.NoError(t, get.wait(ctx))
			want, err := fileSHA256(p.Root())
			require.NoError(t, err)
			got, err := fileSHA256(filepath.Join(dir, p.Name))
			require.NoError(t, err)
			require.Equal(t, want, got, "sha256 of the download")
			require.True(t, logHas(t, get, `source=dht`) || logHas(t, get, `dht lookup.*peers=1`), "the seeder came from the DHT")
			require.False(t, seed.exited(), "the seeder still runs")
		})
	}
}

// ltDHT runs interop/lt_dht.py: libtorrent with the DHT on, bootstrapped from boot only.
func ltDHT(t *testing.T, ctx context.Context, name string, h host, boot host, args ...string) *proc {
	t.Helper()
	need(t, toolLibtorrent)
	script, err := filepath.Abs("lt_dht.py")
	require.NoError(t, err)
	argv := append([]string{systemPython, script}, args...)
	argv = append(argv, "--listen", h.String(), "--bootstrap", boot.String(), "--verbose")
	return startProc(t, ctx, name, argv...)
}

// TestLibtorrentDHT: libtorrent and swarm find each other through the DHT alone, both ways,
// with a `swarm dht` node on loopback as the only bootstrap node: a swarm seeder announced only
// in the DHT is found by a libtorrent magnet leecher, and a libtorrent seeder announced only in
// the DHT is found by a swarm magnet leecher (no tr, no x.pe).
func TestLibtorrentDHT(t *testing.T) {
	for _, dir := range []string{"swarm-seeds", "libtorrent-seeds"} {
		t.Run(dir, func(t *testing.T) {
			start(t)
			needSwarm(t)
			ctx := caseContext(t, 120*time.Second)
			p := singlePayload(t)
			out := filepath.Join(t.TempDir(), "trackerless.torrent")
			_, err := run(ctx, env.swarm, "create", "-q", p.Root(), "-o", out,
				"--piece-length", fmt.Sprint(pieceLength), "--no-date")
			require.NoError(t, err)
			tf := readTorrent(t, out)
			dh := newHost(t)
			boot := startProc(t, ctx, "swarm-dht", env.swarm, "--log-level=debug", "dht",
				"--listen", dh.String(), "--every", "200ms")
			sh, lh := newHost(t), newHost(t)
			getDir := t.TempDir()
			link := magnetLink(tf, nil)
			if dir == "swarm-seeds" {
				startProc(t, ctx, "swarm-seed", env.swarm, "--log-level=debug", "seed", "-q", tf.Path,
					"-d", p.Dir, "--bind", sh.IP, "--port", fmt.Sprint(sh.Port), "--dht-bootstrap="+dh.String(),
					"--dht-state", filepath.Join(t.TempDir(), "dht.dat"))
				waitLog(t, ctx, boot, `stored peers 1 in 1 torrents`)
				lt := ltDHT(t, ctx, "lt-magnet", lh, dh, "magnet", "--magnet", link, "--dir", getDir, "--timeout", "100")
				require.NoError(t, lt.wait(ctx))
			} else {
				ltDHT(t, ctx, "lt-seed", lh, dh, "seed", "--torrent", tf.Path, "--dir", p.Dir, "--timeout", "110")
				waitLog(t, ctx, boot, `stored peers 1 in 1 torrents`)
				get := startProc(t, ctx, "swarm-get", env.swarm, "--log-level=debug", "get", "-q", link,
					"-d", getDir, "--bind", sh.IP, "--port", fmt.Sprint(sh.Port), "--dht-bootstrap="+dh.String(),
					"--dht-state", filepath.Join(t.TempDir(), "dht.dat"), "--metadata-cache", t.TempDir())
				require.NoError(t, get.wait(ctx))
			}
			want, err := fileSHA256(p.Root())
			require.NoError(t, err)
			got, err := fileSHA256(filepath.Join(getDir, p.Name))
			require.NoError(t, err)
			require.Equal(t, want, got, "sha256 of the download")
		})
	}
}

// TestAria2DHT: an aria2 magnet leecher bootstrapped only from a `swarm dht` node on loopback
// finds a swarm seeder announced only in the DHT and downloads the payload.
func TestAria2DHT(t *testing.T) {
	start(t)
	needSwarm(t)
	need(t, toolAria2)
	ctx := caseContext(t, 90*time.Second)
	p := singlePayload(t)
	out := filepath.Join(t.TempDir(), "trackerless.torrent")
	_, err := run(ctx, env.swarm, "create", "-q", p.Root(), "-o", out,
		"--piece-length", fmt.Sprint(pieceLength), "--no-date")
	require.NoError(t, err)
	tf := readTorrent(t, out)
	dh, sh, ah := newHost(t), newHost(t), newHost(t)
	boot := startProc(t, ctx, "swarm-dht", env.swarm, "--log-level=debug", "dht",
		"--listen", dh.String(), "--every", "200ms")
	startProc(t, ctx, "swarm-seed", env.swarm, "--log-level=debug", "seed", "-q", tf.Path,
		"-d", p.Dir, "--bind", sh.IP, "--port", fmt.Sprint(sh.Port), "--dht-bootstrap="+dh.String(),
		"--dht-state", filepath.Join(t.TempDir(), "dht.dat"))
	waitLog(t, ctx, boot, `stored peers 1 in 1 torrents`)
	getDir := t.TempDir()
	aria := startProc(t, ctx, "aria2-magnet", "aria2c", "--no-conf=true",
		"--interface="+ah.IP, fmt.Sprintf("--listen-port=%d", ah.Port), "--disable-ipv6=true",
		"--enable-dht=true", "--enable-dht6=false", "--dht-entry-point="+dh.String(),
		fmt.Sprintf("--dht-listen-port=%d", freeUDPPort(t, ah.IP)),
		"--dht-file-path="+filepath.Join(t.TempDir(), "aria2-dht.dat"),
		"--bt-enable-lpd=false", "--enable-peer-exchange=false", "--seed-time=0",
		"--file-allocation=falloc", "--auto-file-renaming=false", "--bt-save-metadata=false",
		"--log=-", "--log-level=info", "--console-log-level=notice",
		fmt.Sprintf("--stop-with-process=%d", os.Getpid()), "--dir="+getDir, magnetLink(tf, nil))
	require.NoError(t, aria.wait(ctx))
	want, err := fileSHA256(p.Root())
	require.NoError(t, err)
	got, err := fileSHA256(filepath.Join(getDir, p.Name))
	require.NoError(t, err)
	require.Equal(t, want, got, "sha256 of the download")
}

// freeUDPPort asks the kernel for a free UDP port on ip.
func freeUDPPort(t *testing.T, ip string) int {
	t.Helper()
	c, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
	require.NoError(t, err)
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}
