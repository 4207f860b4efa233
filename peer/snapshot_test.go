package peer_test

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/peertest"
)

// TestSnapshots checks what the daemon's page shows: the ledger (sources, states, reasons),
// the piece map (have, availability) and the choke log, while a leecher downloads from a
// rate-limited seeder and also knows an address where nobody listens.
func TestSnapshots(t *testing.T) {
	tor, err := peertest.NewTorrent("snap.bin", 512<<10, 32<<10, 3)
	require.NoError(t, err)
	tr := peertest.NewTracker()
	ctx := context.Background()
	seeder, err := peertest.Start(ctx, tor, peertest.Options{Announcer: tr, Seed: true,
		Configure: func(c *peer.Config) { c.UploadLimiter = peer.NewLimiter(256 << 10) }})
	require.NoError(t, err)
	defer seeder.Stop()
	leecher, err := peertest.Start(ctx, tor, peertest.Options{Announcer: tr,
		Configure: func(c *peer.Config) { c.Timeouts.RedialMin = time.Minute }})
	require.NoError(t, err)
	defer leecher.Stop()
	dead := deadAddr(t)
	leecher.Swarm.AddPeers(dead)

	var sawPartial bool
	require.True(t, pollUntil(30*time.Second, func() bool {
		ps := leecher.Swarm.Pieces()
		if n := ps.Have.Count(); n > 0 && n < tor.Info.NumPieces() {
			sawPartial = true
			// Every missing piece is available from the one connected seed.
			for i, a := range ps.Availability {
				if !ps.Have.Has(i) {
					assert.Equal(t, 1, a, "availability of piece %d", i)
				}
			}
		}
		return ps.Have.Full()
	}))
	assert.True(t, sawPartial, "no snapshot caught the download half way")

	byAddr := map[netip.AddrPort]peer.LedgerEntry{}
	require.True(t, pollUntil(10*time.Second, func() bool {
		for _, e := range leecher.Swarm.Ledger() {
			byAddr[e.Addr] = e
		}
		return byAddr[dead].State == "backing off"
	}), "ledger: %+v", byAddr)
	d := byAddr[dead]
	assert.Equal(t, peer.SourceManual, d.Source)
	assert.Contains(t, d.Reason, "dial failed")
	assert.Equal(t, 1, d.Fails)
	s := byAddr[seeder.Addr]
	assert.Equal(t, peer.SourceTracker, s.Source)
	assert.Contains(t, []string{"connected", "idle"}, s.State) // both seeds now: it may drop
	if s.State == "idle" {
		assert.Contains(t, s.Reason, "both sides are seeds")
	}

	// The seeder's choke log gave the leecher a slot, with a reason.
	var found bool
	for _, r := range seeder.Swarm.ChokeLog() {
		for _, sl := range r.Slots {
			if sl.Addr.Addr() == netip.MustParseAddr("127.0.0.1") && (sl.Kind == "regular" || sl.Kind == "optimistic") {
				found = found || strings.Contains(sl.Reason, sl.Kind)
			}
		}
	}
	assert.True(t, found, "choke log: %+v", seeder.Swarm.ChokeLog())
	ps := leecher.Swarm.Pieces()
	require.NoError(t, leecher.Stop())
	assert.Equal(t, ps.Have, leecher.Swarm.Pieces().Have, "after the swarm stops, Pieces gives its final state")
}

// deadAddr returns a loopback address where nothing listens.
func deadAddr(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ap := netip.MustParseAddrPort(ln.Addr().String())
	require.NoError(t, ln.Close())
	return ap
}

func pollUntil(timeout time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}
