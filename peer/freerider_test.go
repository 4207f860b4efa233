package peer_test

import (
	"os"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/swarm-bt/swarm/choke"
	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/peertest"
)

// TestFreeRiderExperiment runs issue 5's experiment on the real engine, in fake time: a
// seeder with a limited upload, eight contributors and one free-rider that uploads (almost)
// nothing. It logs how much later the free-rider completes than the contributors. Rates and
// size are scaled down 8x from docs/freerider.md (256 MiB, 1.5 MiB/s seeder, 1 MiB/s
// contributors), which keeps the same times. SWARM_EXPERIMENT=1 runs it.
func TestFreeRiderExperiment(t *testing.T) {
	if os.Getenv("SWARM_EXPERIMENT") == "" {
		t.Skip("an experiment, not a check: SWARM_EXPERIMENT=1 runs it")
	}
	const size, scale = 32 << 20, 8
	tor, err := peertest.NewTorrent("free.bin", size, 32<<10, 21)
	require.NoError(t, err)
	for seed := range uint64(3) {
		synctest.Test(t, func(t *testing.T) {
			net, tr := peertest.NewNetwork(), peertest.NewTracker()
			limit := func(up rate.Limit, lim *rate.Limiter) func(*peer.Config) {
				return func(c *peer.Config) {
					fastTimeouts(c)
					c.Choke.SeedPolicy = choke.SeedRoundRobin
					c.UploadLimiter = peer.NewLimiter(up)
					if lim != nil {
						c.UploadLimiter = lim
					}
				}
			}
			seeder := bubbleNode(t, net, tor, peertest.Options{Announcer: tr, Seed: true, Configure: limit(1.5*(1<<20)/scale, nil)})
			start := time.Now()
			var contributors []*peertest.Node
			for range 8 {
				contributors = append(contributors, bubbleNode(t, net, tor, peertest.Options{Announcer: tr, Configure: limit((1<<20)/scale, nil)}))
				time.Sleep(time.Duration(seed+1) * 300 * time.Millisecond)
			}
			// The free-rider's limiter lets one block out, then nothing.
			rider := bubbleNode(t, net, tor, peertest.Options{Announcer: tr, Configure: limit(0, rate.NewLimiter(1e-9, 16<<10))})
			// A contributor leaves as soon as it completes (docs/freerider.md's baseline).
			var times []time.Duration
			var riderAtMedian float64
			for i, c := range contributors {
				<-c.Swarm.Completed()
				times = append(times, time.Since(start))
				require.NoError(t, c.Stop())
				if i == 3 {
					st := rider.Swarm.Stats()
					riderAtMedian = float64(st.Have) / float64(st.NumPieces)
				}
			}
			<-rider.Swarm.Completed()
			riderTime := time.Since(start)
			slices.Sort(times)
			median := (times[3] + times[4]) / 2
			t.Logf("seed %d: contributors median %v (slowest %v), free-rider %v: %.2fx the median; it had %.0f%% when half the contributors had 100%%; it uploaded %d bytes",
				seed, median.Round(time.Second), times[7].Round(time.Second), riderTime.Round(time.Second),
				riderTime.Seconds()/median.Seconds(), 100*riderAtMedian, rider.Swarm.Stats().Uploaded)
			for _, n := range []*peertest.Node{rider, seeder} {
				require.NoError(t, n.Stop())
			}
		})
	}
}
