package peer_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
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

// TestFreeRiderStreamExperiment is the steady-stream scenario of docs/freerider.md on the
// real engine, in fake time: contributors keep arriving (one every 30, 20 or 15 s, at a
// random moment of each slot) and leave on completion, so that about 8, 12 or 16 are
// present at any time and the seeder is never left alone with the free-rider, which joins
// at 300 s. It logs the free-rider's completion time over the median of its cohort: the contributors
// that joined while it was downloading. Sizes and rates are scaled down 8x as above.
// SWARM_EXPERIMENT=1 runs it, SWARM_EXPERIMENT_RUNS sets the runs per arrival rate (default
// 3); a run takes 5 s of CPU with 8 present, 20 s with 16. -run '.../every15s' picks a rate.
func TestFreeRiderStreamExperiment(t *testing.T) {
	if os.Getenv("SWARM_EXPERIMENT") == "" {
		t.Skip("an experiment, not a check: SWARM_EXPERIMENT=1 runs it")
	}
	tor, err := peertest.NewTorrent("stream.bin", 32<<20, 32<<10, 22)
	require.NoError(t, err)
	runs := uint64(3)
	if n, err := strconv.ParseUint(os.Getenv("SWARM_EXPERIMENT_RUNS"), 10, 8); err == nil && n > 0 {
		runs = n
	}
	for _, arrival := range []time.Duration{30 * time.Second, 20 * time.Second, 15 * time.Second} {
		t.Run(fmt.Sprintf("every%v", arrival), func(t *testing.T) {
			var ratios []float64
			for seed := range runs {
				synctest.Test(t, func(t *testing.T) {
					r := runStream(t, tor, arrival, seed+1)
					ratios = append(ratios, r)
				})
			}
			slices.Sort(ratios)
			t.Logf("arrival every %v: completion ratios %.2f (median %.2f)", arrival, ratios, ratios[len(ratios)/2])
		})
	}
}

// streamMember is one contributor of a stream run.
type streamMember struct {
	node       *peertest.Node // nil once stopped
	join, done time.Duration  // from the start; done is zero until it completes
}

// runStream runs one stream (see TestFreeRiderStreamExperiment) in a synctest bubble and
// returns the free-rider's completion ratio.
func runStream(t *testing.T, tor *peertest.Torrent, arrival time.Duration, seed uint64) float64 {
	const scale, riderAt, tick = 8, 300 * time.Second, 500 * time.Millisecond
	net, tr := peertest.NewNetwork(), peertest.NewTracker()
	rng := rand.New(rand.NewPCG(seed, 5))
	start := func(up rate.Limit, lim *rate.Limiter, seed bool) *peertest.Node {
		n, err := peertest.Start(t.Context(), tor, peertest.Options{Network: net, Announcer: tr, Seed: seed,
			Configure: func(c *peer.Config) {
				fastTimeouts(c)
				c.Choke.SeedPolicy = choke.SeedRoundRobin
				c.UploadLimiter = peer.NewLimiter(up)
				if lim != nil {
					c.UploadLimiter = lim
				}
			}})
		require.NoError(t, err)
		return n
	}
	seeder := start(1.5*(1<<20)/scale, nil, true)
	t0 := time.Now()
	var members []*streamMember
	var rider *peertest.Node
	var riderDone time.Duration
	var riderUp int64
	nextJoin := time.Duration(rng.Int64N(int64(arrival)))
	presentSum, samples := 0, 0
	defer func() {
		for _, m := range members {
			if m.node != nil {
				_ = m.node.Stop()
			}
		}
		_ = rider.Stop()
		_ = seeder.Stop()
	}()
	for {
		now := time.Since(t0)
		require.Less(t, now, 2*time.Hour, "the stream did not settle")
		if now >= nextJoin {
			members = append(members, &streamMember{node: start((1<<20)/scale, nil, false), join: now})
			k := len(members)
			nextJoin = time.Duration(k)*arrival + time.Duration(rng.Int64N(int64(arrival)))
		}
		if rider == nil && now >= riderAt {
			// The free-rider's limiter lets one block out, then nothing.
			rider = start(0, rate.NewLimiter(1e-9, 16<<10), false)
		}
		present := 0
		for _, m := range members {
			if m.node == nil {
				continue
			}
			select {
			case <-m.node.Swarm.Completed():
				m.done = now
				require.NoError(t, m.node.Stop())
				m.node = nil // a contributor leaves as soon as it completes
			default:
				present++
			}
		}
		if rider != nil && riderDone == 0 {
			presentSum, samples = presentSum+present, samples+1
			select {
			case <-rider.Swarm.Completed():
				riderDone, riderUp = now, rider.Swarm.Stats().Uploaded
				require.NoError(t, rider.Stop()) // it leaves on completion
			default:
			}
		}
		if riderDone > 0 && streamSettled(members, riderDone) {
			break
		}
		time.Sleep(tick)
	}
	var cohort []time.Duration
	for _, m := range members {
		if m.join >= riderAt && m.join < riderDone {
			cohort = append(cohort, m.done-m.join)
		}
	}
	slices.Sort(cohort)
	median := cohort[len(cohort)/2]
	if len(cohort)%2 == 0 {
		median = (cohort[len(cohort)/2-1] + median) / 2
	}
	took := riderDone - riderAt
	ratio := took.Seconds() / median.Seconds()
	t.Logf("seed %d: %.1f contributors present on average; cohort of %d, median %v (%v to %v); free-rider %v: %.2fx; it uploaded %d bytes",
		seed, float64(presentSum)/float64(samples), len(cohort), median.Round(time.Second), cohort[0].Round(time.Second),
		cohort[len(cohort)-1].Round(time.Second), took.Round(time.Second), ratio, riderUp)
	return ratio
}

// streamSettled: every contributor that joined before the free-rider completed has
// completed too.
func streamSettled(members []*streamMember, riderDone time.Duration) bool {
	for _, m := range members {
		if m.join < riderDone && m.done == 0 {
			return false
		}
	}
	return true
}
