package peer_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/peertest"
)

// TestLeecherReconnectsWhenPeersReturn: every peer disappears mid-download; the leecher
// keeps its pieces and finishes once a seeder is back, found either by redialing the old
// address (tracker down) or by announcing again early (new address).
func TestLeecherReconnectsWhenPeersReturn(t *testing.T) {
	tor, err := peertest.NewTorrent("back.bin", 1<<20, 32<<10, 12)
	require.NoError(t, err)
	tests := []struct {
		name        string
		sameAddr    bool
		trackerDown bool
	}{
		{name: "same address, redial", sameAddr: true, trackerDown: true},
		{name: "new address, early announce", sameAddr: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				net, tr := peertest.NewNetwork(), peertest.NewTracker()
				seedSt, err := tor.SeedStorage()
				require.NoError(t, err)
				seedOpt := peertest.Options{Announcer: tr, Storage: seedSt, Have: fullHave(tor), Configure: limitUpload(256 << 10)}
				seeder := bubbleNode(t, net, tor, seedOpt)
				// The seeder announces first, so the leecher learns its listen address (when the
				// seeder dials the leecher instead, the leecher only sees an ephemeral port and
				// has nothing to redial with the tracker down).
				synctest.Wait()
				leecher := bubbleNode(t, net, tor, peertest.Options{Announcer: tr, Configure: func(c *peer.Config) {
					fastTimeouts(c)
					c.Timeouts.MinAnnounce = 5 * time.Second
				}})
				half := tor.Info.NumPieces() / 2
				require.True(t, poll(time.Minute, func() bool { return leecher.Swarm.Stats().Have >= half }))
				require.NoError(t, seeder.Stop())
				require.True(t, poll(time.Minute, func() bool { return len(leecher.Swarm.Stats().Peers) == 0 }))
				before := leecher.Swarm.Stats().Have

				time.Sleep(20 * time.Second) // nobody there: dials fail, backoff grows
				tr.SetDown(tc.trackerDown)
				if tc.sameAddr {
					seedOpt.Listener, err = net.ListenAt(seeder.Addr)
					require.NoError(t, err)
				}
				back := bubbleNode(t, net, tor, seedOpt)
				select {
				case <-leecher.Swarm.Completed():
				case <-time.After(10 * time.Minute): // fake time: fails fast instead of spinning
					t.Fatalf("leecher did not reconnect: %+v", leecher.Swarm.Stats())
				}
				require.NoError(t, tor.Compare(leecher.Storage))
				st := leecher.Swarm.Stats()
				assert.GreaterOrEqual(t, st.Have, before)
				assert.Equal(t, tor.Info.TotalLength(), st.Downloaded-st.Wasted, "pieces fetched twice")
				require.NoError(t, leecher.Stop())
				require.NoError(t, back.Stop())
			})
		})
	}
}
