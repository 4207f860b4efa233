package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/tracker"
)

// startTrackerLines runs `swarm tracker` and returns the URLs of its "listening" lines.
func startTrackerLines(t *testing.T, lines int, args ...string) ([]string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"tracker", "--listen", "127.0.0.1:0"}, args...), pw, io.Discard)
		pw.CloseWithError(io.EOF)
		done <- err
	}()
	br := bufio.NewReader(pr)
	var urls []string
	for range lines {
		line, err := br.ReadString('\n')
		require.NoError(t, err)
		urls = append(urls, strings.TrimPrefix(strings.TrimSpace(line), "tracker listening on "))
	}
	go func() { _, _ = io.Copy(io.Discard, br) }()
	stop := sync.OnceValue(func() error { cancel(); return <-done })
	t.Cleanup(func() { _ = stop() })
	return urls, stop
}

// By default UDP is served on the HTTP address, over the same swarms.
func TestTrackerCommandUDP(t *testing.T) {
	addr := freeTCPAndUDPAddr(t)
	urls, stop := startTrackerLines(t, 2, "--interval", "1m", "--listen", addr)
	require.True(t, strings.HasPrefix(urls[1], "udp://"), urls[1])
	assert.Equal(t, strings.TrimPrefix(urls[0], "http://"), strings.TrimPrefix(urls[1], "udp://"), "same address")
	c, err := tracker.NewClient(tracker.ClientConfig{Tiers: [][]string{{urls[1]}}})
	require.NoError(t, err)
	defer c.Close()
	h := [20]byte{1}
	_, err = c.Announce(t.Context(), tracker.AnnounceRequest{InfoHash: h, Port: 7001, Event: tracker.EventStarted})
	require.NoError(t, err)
	hc, err := tracker.NewClient(tracker.ClientConfig{Tiers: [][]string{{urls[0]}}})
	require.NoError(t, err)
	counts, err := hc.Scrape(t.Context(), h)
	require.NoError(t, err)
	assert.Equal(t, 1, counts[h].Complete, "the HTTP side sees the UDP announce")
	require.NoError(t, stop())
}

func TestTrackerCommandUDPOff(t *testing.T) {
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"tracker", "--listen", "127.0.0.1:0", "--udp", "off"}, pw, io.Discard)
		pw.CloseWithError(io.EOF)
	}()
	br := bufio.NewReader(pr)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Contains(t, line, "http://")
	cancel()
	rest, _ := io.ReadAll(br)
	assert.NotContains(t, string(rest), "udp://")
	require.NoError(t, <-done)
}

func TestTrackerCommandBadUDPFlags(t *testing.T) {
	for _, args := range [][]string{
		{"tracker", "--listen", "127.0.0.1:0", "--udp-sockets", "-1"},
		{"tracker", "--listen", "127.0.0.1:0", "--udp-sockets", "65"},
		{"tracker", "--listen", "127.0.0.1:0", "--udp", "nohost"},
		{"tracker", "--listen", "127.0.0.1:0", "--udp", "example.com:1"},
	} {
		err := run(t.Context(), args, io.Discard, io.Discard)
		assert.Error(t, err, "%v", args)
	}
}

// freeTCPAndUDPAddr returns a loopback address whose port was free for TCP and UDP.
func freeTCPAndUDPAddr(t *testing.T) string {
	t.Helper()
	for range 50 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		if pc, err := net.ListenPacket("udp4", addr); err == nil {
			require.NoError(t, pc.Close())
			return addr
		}
	}
	t.Fatal("no port free for both TCP and UDP")
	return ""
}

// With --listen on port 0, a UDP port already taken under the number TCP got is no error:
// UDP gets a port of its own.
func TestTrackerUDPFallsBackFromTakenEphemeralPort(t *testing.T) {
	taken, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	cmd := &cobra.Command{}
	cmd.SetContext(t.Context())
	f := trackerFlags{listen: "127.0.0.1:0", udpSockets: 1}
	conns, err := listenTrackerUDP(cmd, f, taken.LocalAddr().String())
	require.NoError(t, err)
	require.Len(t, conns, 1)
	defer conns[0].Close()
	assert.NotEqual(t, taken.LocalAddr().String(), conns[0].LocalAddr().String())

	f.listen = taken.LocalAddr().String() // a port asked for: taken is an error
	_, err = listenTrackerUDP(cmd, f, taken.LocalAddr().String())
	assert.Error(t, err)
}
