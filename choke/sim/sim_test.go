package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/choke"
)

// TestFreeRider is the experiment's claim, made a test: in the baseline swarm (real
// choke.Decide for every peer), every contributor completes and the free-rider downloads
// markedly slower and finishes later in every run; in the control swarm, where nobody looks
// at rates, it does not. It fails if tit-for-tat breaks (reciprocation, snubbing, or the
// optimistic slot turning into a regular one).
func TestFreeRider(t *testing.T) {
	const seeds = 5
	runs := Runs(Baseline(), 1, seeds)
	blind := Baseline()
	blind.Blind = true
	control := Runs(blind, 1, seeds)
	for i, r := range runs {
		require.True(t, r.AllContributorsDone(), "seed %d: a contributor did not complete: %v", r.Seed, r.Contributors)
		require.NotZero(t, r.FreeRiders[0], "seed %d: the free-rider did not complete", r.Seed)
		t.Logf("seed %d: contributors median %v, free-rider %v, completion ratio %.2f, rate ratio %.2f (control %.2f, %.2f)",
			r.Seed, r.Median().Round(time.Second), r.FreeRiders[0].Round(time.Second), r.Ratio(), r.RateRatio,
			control[i].Ratio(), control[i].RateRatio)
		assert.GreaterOrEqual(t, r.RateRatio, 1.3, "seed %d: rate penalty while contributors trade", r.Seed)
		assert.GreaterOrEqual(t, r.Ratio(), 1.15, "seed %d: completion-time penalty", r.Seed)
		assert.Less(t, control[i].Ratio(), 1.0, "seed %d: control", r.Seed)
		assert.Less(t, control[i].RateRatio, 1.05, "seed %d: control", r.Seed)
	}
	assert.GreaterOrEqual(t, MedianRatio(runs), 1.2)
	t.Run("steady stream of 16", testFreeRiderStream)
}

// testFreeRiderStream is issue 5's target, met where theory says tit-for-tat can meet it: in
// a steady stream with about 16 contributors present (sim.Stream(15 s)), the seeder is never
// left alone with the free-rider, which completes at least 2x later than the median of its
// cohort (the contributors that joined while it downloaded), and every contributor
// completes. In the control (rate-blind) stream it does not.
func testFreeRiderStream(t *testing.T) {
	const seeds = 3 // about 1 s each with its control (10 s with -race); bench/freerider.sh runs 10
	runs := Runs(Stream(15*time.Second), 1, seeds)
	blind := Stream(15 * time.Second)
	blind.Blind = true
	control := Runs(blind, 1, seeds)
	for i, r := range runs {
		require.False(t, r.Starved, "seed %d: the stream ran out of contributors", r.Seed)
		require.NotEmpty(t, r.Contributors, "seed %d: empty cohort", r.Seed)
		require.True(t, r.AllContributorsDone(), "seed %d: a contributor did not complete: %v", r.Seed, r.Contributors)
		require.NotZero(t, r.FreeRiders[0], "seed %d: the free-rider did not complete", r.Seed)
		t.Logf("seed %d: %.1f present, cohort of %d, median %v, free-rider %v, completion ratio %.2f (control %.2f)",
			r.Seed, r.Present, len(r.Contributors), r.Median().Round(time.Second), r.FreeRiders[0].Round(time.Second),
			r.Ratio(), control[i].Ratio())
		assert.GreaterOrEqual(t, r.Ratio(), 2.0, "seed %d: completion ratio", r.Seed)
		assert.Less(t, control[i].Ratio(), 1.3, "seed %d: control", r.Seed)
	}
	assert.GreaterOrEqual(t, MedianRatio(runs), 2.0)
}

// TestRunDeterministic: a run is a pure function of its Config, and the seed is part of it:
// the same config gives the same result, and changing only the seed changes what happens
// (the completion times, not just the Result.Seed that echoes it).
func TestRunDeterministic(t *testing.T) {
	cfg := Baseline()
	cfg.FileSize = 32 * MiB
	cfg.Seed = 9
	first := Run(cfg)
	assert.Equal(t, first, Run(cfg))
	cfg.Seed = 10
	other := Run(cfg)
	require.Equal(t, len(first.Contributors), len(other.Contributors))
	assert.NotEqual(t, first.Contributors, other.Contributors, "the seed does not reach the run")
	other.Seed = first.Seed
	assert.NotEqual(t, first, other)
}

// TestConservation: a small swarm without free-riders completes, each peer's time is at
// least the physical bound (file size over the total upload capacity shared by everyone).
func TestConservation(t *testing.T) {
	cfg := Config{Contributors: 3, FreeRiders: -1, FileSize: 16 * MiB, SeederRate: 2 * MiB,
		LeecherRate: MiB, SeederPolicy: choke.SeedRoundRobin, JoinSpread: time.Millisecond}
	r := Run(cfg)
	require.True(t, r.AllContributorsDone())
	assert.Empty(t, r.FreeRiders)
	// 3 downloaders need 48 MiB in all; the swarm uploads at most 2+3 MiB/s, and the seeder
	// alone must send every piece once (16 MiB at 2 MiB/s).
	bound := 8 * time.Second
	for _, d := range r.Contributors {
		assert.GreaterOrEqual(t, d, bound)
	}
}
