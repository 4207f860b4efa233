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

// TestStatsTrackerState: Stats reports the tracker's state, so that the CLI can show it: the
// failures in a row and the last error while it is down, cleared once it answers again.
func TestStatsTrackerState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tor, err := peertest.NewTorrent("trackerstats.bin", 256<<10, 32<<10, 61)
		require.NoError(t, err)
		nw, tr := peertest.NewNetwork(), peertest.NewTracker()
		seeder := hNode(t, nw, tor, peertest.Options{Announcer: tr, Seed: true})
		require.True(t, poll(time.Minute, func() bool { return len(tr.Announces()) > 0 }))
		tr.SetDown(true)
		minAnnounce := configure(func(c *peer.Config) { c.Timeouts.MinAnnounce = time.Second })
		second := hNode(t, nw, tor, peertest.Options{Announcer: tr, Seed: true, Configure: minAnnounce})
		_ = seeder

		require.True(t, poll(time.Minute, func() bool { return second.Swarm.Stats().Tracker.Failures >= 3 }),
			"failures grow while the tracker is down: %+v", second.Swarm.Stats().Tracker)
		down := second.Swarm.Stats().Tracker
		assert.Contains(t, down.LastError, peertest.ErrTrackerDown.Error())
		assert.False(t, down.LastAnnounce.IsZero())
		assert.True(t, down.NextAnnounce.After(down.LastAnnounce), "a retry is scheduled: %+v", down)

		tr.SetDown(false)
		require.True(t, poll(time.Minute, func() bool { return second.Swarm.Stats().Tracker.Failures == 0 }),
			"failures reset once the tracker answers: %+v", second.Swarm.Stats().Tracker)
		up := second.Swarm.Stats().Tracker
		assert.Empty(t, up.LastError)
		assert.Equal(t, 1, up.Peers, "the seeder, from the good reply")
		assert.True(t, up.LastAnnounce.After(down.LastAnnounce))
		assert.True(t, up.NextAnnounce.After(up.LastAnnounce))
	})
}

// TestStatsTrackerNone: without a peer source, the tracker state stays zero.
func TestStatsTrackerNone(t *testing.T) {
	tor, err := peertest.NewTorrent("notracker.bin", 64<<10, 32<<10, 62)
	require.NoError(t, err)
	n := hNode(t, nil, tor, peertest.Options{Seed: true})
	assert.Equal(t, peer.TrackerStats{}, n.Swarm.Stats().Tracker)
}
