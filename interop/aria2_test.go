package interop

import (
	"context"
	"fmt"
	"os"
	"testing"
)

// aria2Args are the flags every aria2c run gets: its own address for listening, dialing and
// announcing, DHT/LSD/PEX off, fallocate instead of writing zeros, a short tracker interval,
// and --stop-with-process so it never outlives the test binary.
func aria2Args(tf *torrentFile, dir string, h host) []string {
	return []string{"aria2c", "--no-conf=true",
		"--interface=" + h.IP, fmt.Sprintf("--listen-port=%d", h.Port), "--disable-ipv6=true",
		"--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false",
		"--enable-peer-exchange=false", "--file-allocation=falloc", "--bt-tracker-interval=2",
		"--auto-file-renaming=false", "--bt-save-metadata=false", "--summary-interval=1",
		"--log=-", "--log-level=info", "--console-log-level=notice",
		fmt.Sprintf("--stop-with-process=%d", os.Getpid()),
		"--dir=" + dir, "--torrent-file=" + tf.Path}
}

func seedAria2(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host) *node {
	return seedAria2With(t, ctx, tf, dir, h)
}

func seedAria2With(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host, extra ...string) *node {
	t.Helper()
	need(t, toolAria2)
	args := append(aria2Args(tf, dir, h),
		"--check-integrity=true", "--bt-seed-unverified=false", "--seed-ratio=0.0")
	return &node{procs: []*proc{startProc(t, ctx, "aria2-seed", append(args, extra...)...)}}
}

func leechAria2(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host) *node {
	return leechAria2With(t, ctx, tf, dir, h)
}

func leechAria2With(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host, extra ...string) *node {
	t.Helper()
	need(t, toolAria2)
	args := append(aria2Args(tf, dir, h), "--seed-time=0")
	return exitNode(startProc(t, ctx, "aria2-get", append(args, extra...)...))
}
