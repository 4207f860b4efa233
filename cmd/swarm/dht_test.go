package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/dht"
	"github.com/swarm-bt/swarm/metainfo"
)

var dhtListenRe = regexp.MustCompile(`dht node ([0-9a-f]{40}) listening on udp://(\S+)`)

// startDHTNode runs `swarm dht` on a loopback port with extra args; it returns the node's
// address, its stdout, and a stop function that returns Run's error.
func startDHTNode(t *testing.T, args ...string) (addr string, out *lockedBuffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out = &lockedBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"dht", "--listen", "127.0.0.1:0"}, args...), out, &lockedBuffer{})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := dhtListenRe.FindStringSubmatch(out.String()); m != nil {
			return m[2], out, func() error { cancel(); return <-done }
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("swarm dht exited: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	t.Fatal("swarm dht did not print its address")
	return "", nil, nil
}

func TestDHTCommandServesAndSavesState(t *testing.T) {
	state := filepath.Join(t.TempDir(), "dht.dat")
	addr, out, stop := startDHTNode(t, "--every", "50ms", "--state", state)
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer conn.Close()
	// A second node (in-process) joins through the command's node and announces.
	joined, err := dht.New(dht.Config{Conn: conn, Bootstrap: mustAddrPorts(t, addr)})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	runDone := make(chan error, 1)
	go func() { runDone <- joined.Run(ctx) }()
	_, err = joined.Announce(ctx, [20]byte{1, 2, 3}, 7000)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return strings.Contains(out.String(), "stored peers 1 in 1 torrents") && strings.Contains(out.String(), "nodes 1 (good 1)")
	}, 10*time.Second, 20*time.Millisecond, "output: %s", out.String())
	cancel()
	require.NoError(t, <-runDone)
	require.NoError(t, stop())
	st, err := dht.LoadState(state)
	require.NoError(t, err)
	assert.Equal(t, dhtListenRe.FindStringSubmatch(out.String())[1], st.ID.String(), "the id is saved")
	require.Len(t, st.Nodes, 1)
	assert.Equal(t, joined.ID(), st.Nodes[0].ID)
}

func TestDHTCommandBadArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bootstrap without port", []string{"--bootstrap", "127.0.0.1"}, "bootstrap node"},
		{"bootstrap port 0", []string{"--bootstrap", "127.0.0.1:0"}, "bad port"},
		{"bad listen", []string{"--listen", "nonsense"}, "dht:"},
		{"negative every", []string{"--every", "-1s"}, "--every"},
		{"bad public ip", []string{"--public-ip", "example.com"}, "--public-ip"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := run(t.Context(), append([]string{"dht"}, tc.args...), &lockedBuffer{}, &lockedBuffer{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func mustAddrPorts(t *testing.T, s ...string) []netip.AddrPort {
	t.Helper()
	nodes, err := resolveNodes(t.Context(), s, discardLogger())
	require.NoError(t, err)
	return nodes
}

func TestGetDHTBootstrapBadArg(t *testing.T) {
	tpath, _ := writeTrackerlessTorrent(t)
	err := run(t.Context(), []string{"get", tpath, "-d", t.TempDir(), "--port", "0", "--bind", "127.0.0.1", "-q",
		"--dht-bootstrap", "127.0.0.1"}, &lockedBuffer{}, &lockedBuffer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--dht-bootstrap")
}

// writeTrackerlessTorrent makes a small public torrent with no tracker; it returns its path
// and the payload's folder.
func writeTrackerlessTorrent(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p.bin"), make([]byte, 100_000), 0o644))
	tpath := filepath.Join(t.TempDir(), "p.torrent")
	require.NoError(t, run(t.Context(), []string{"create", "-q", filepath.Join(dir, "p.bin"), "-o", tpath}, &lockedBuffer{}, &lockedBuffer{}))
	return tpath, dir
}

// TestDemoTrackerless: the demo swarm with no tracker; the leechers get only a magnet link and
// a DHT bootstrap node on loopback, fetch the metadata and find each other through the DHT.
func TestDemoTrackerless(t *testing.T) {
	var out lockedBuffer
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	err := run(ctx, []string{"demo", "--trackerless", "--size", "3MiB", "--leechers", "3", "--piece-length", "64KiB"}, &out, &out)
	require.NoError(t, err, out.String())
	assert.Contains(t, out.String(), "no tracker: dht bootstrap node udp://127.0.0.1:")
	assert.Contains(t, out.String(), "3 leechers downloaded 3 MiB")
	assert.Contains(t, out.String(), "every copy verified")
}

func TestDHTCommandPublicIPGivesBEP42ID(t *testing.T) {
	_, out, stop := startDHTNode(t, "--every", "0", "--public-ip", "124.31.75.21")
	require.NoError(t, stop())
	id, err := metainfoHash(dhtListenRe.FindStringSubmatch(out.String())[1])
	require.NoError(t, err)
	assert.True(t, dht.BEP42Valid(dht.ID(id), netip.MustParseAddr("124.31.75.21")))
}

func metainfoHash(s string) ([20]byte, error) {
	h, err := metainfo.HashFromHex(s)
	return h, err
}

func TestResolveNodes(t *testing.T) {
	got, err := resolveNodes(t.Context(), []string{"127.0.0.1:1", " ", "[::1]:3", "localhost:2"}, discardLogger())
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.Equal(t, netip.MustParseAddrPort("127.0.0.1:1"), got[0])
	assert.Equal(t, netip.MustParseAddrPort("[::1]:3"), got[1])
	assert.True(t, got[2].Addr().IsLoopback(), "localhost resolves to a loopback address: %v", got[2])
	assert.Equal(t, uint16(2), got[2].Port())
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
