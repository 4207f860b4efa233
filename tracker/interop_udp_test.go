package tracker_test

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/internal/testenv"
	"github.com/swarm-bt/swarm/tracker"
	"github.com/swarm-bt/swarm/tracker/trackertest"
	"github.com/swarm-bt/swarm/tracker/udpwire"
)

// TestInteropOpentrackerUDP: our client announces to and scrapes a real opentracker over UDP
// (BEP 15, its -P port), and gets its error reply for a hash it does not serve.
func TestInteropOpentrackerUDP(t *testing.T) {
	testenv.NeedTools(t, "opentracker")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	h, other := trackertest.Hash(1), trackertest.Hash(2)
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o755)) // opentracker drops to nobody after chroot
	require.NoError(t, os.WriteFile(filepath.Join(dir, "whitelist"), []byte(h.String()+"\n"), 0o644))
	port := itoaPort(freePort(t))
	startProc(ctx, t, "opentracker", "-i", "127.0.0.1", "-P", port, "-d", dir, "-w", "whitelist")

	c, err := tracker.NewClient(tracker.ClientConfig{
		Tiers: [][]string{{"udp://127.0.0.1:" + port + "/announce"}}, Rand: rand.New(rand.NewPCG(1, 1)),
	})
	require.NoError(t, err)
	defer c.Close()
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

	counts, err := c.Scrape(ctx, h, other)
	require.NoError(t, err)
	assert.Equal(t, tracker.Counts{Complete: 1, Incomplete: 1}, counts[h])
	assert.Equal(t, tracker.Counts{}, counts[other])

	// For a hash off its whitelist, opentracker 0~git20210823 answers an announce with the
	// 8-byte header alone, no error message: an error all the same.
	_, err = c.Announce(ctx, tracker.AnnounceRequest{InfoHash: other, PeerID: trackertest.ID(3), Port: 7003, Left: 1})
	assert.ErrorIs(t, err, udpwire.ErrShort)
}
