package choke

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// swarmOf makes n interested peers (IDs 1..n) connected long ago; peers 1..4 are the fastest,
// so they hold the regular slots, and the others compete for the optimistic one.
func swarmOf(n int, now time.Time) []Peer {
	peers := make([]Peer, 0, n)
	for id := 1; id <= n; id++ {
		rate := 0.0
		if id <= 4 {
			rate = float64(1000 * id)
		}
		peers = append(peers, leecher(PeerID(id), rate, now))
	}
	return peers
}

// TestOptimisticRotation drives the choker every second for two minutes and checks that
// the optimistic peer changes exactly on the rounds at 30 s, 60 s and 90 s, always to a
// different peer, and never between rounds.
func TestOptimisticRotation(t *testing.T) {
	d := &driver{rng: newRNG(3), peers: swarmOf(12, at(0))}
	first := d.step(at(0))
	require.True(t, first.HasOptimistic)
	cur, since := first.Optimistic, at(0)
	var changes []float64
	for s := 1; s <= 120; s++ {
		for i := range d.peers {
			d.peers[i].LastBlockAt = at(float64(s))
		}
		dec := d.step(at(float64(s)))
		require.True(t, dec.HasOptimistic)
		assert.Equal(t, s%10 == 0, dec.Round, "round at %d s", s)
		assert.Equal(t, []PeerID{1, 2, 3, 4}, sorted(regularOf(dec)), "regular slots at %d s", s)
		if dec.Optimistic != cur {
			changes = append(changes, float64(s))
			assert.GreaterOrEqual(t, at(float64(s)).Sub(since), 30*time.Second)
			cur, since = dec.Optimistic, at(float64(s))
		}
	}
	assert.Equal(t, []float64{30, 60, 90, 120}, changes)
}

// TestOptimisticRotationJitter: a ticker firing a little early or late still rotates the
// optimistic slot every third round.
func TestOptimisticRotationJitter(t *testing.T) {
	d := &driver{rng: newRNG(4), peers: swarmOf(12, at(0))}
	cur := d.step(at(0)).Optimistic
	var changes []int
	jitter := []float64{-0.3, 0.4, -0.2, 0.1, -0.4, 0.3, -0.1, 0.2, 0, -0.3, 0.3, -0.2}
	for round := 1; round <= 12; round++ {
		now := at(float64(round*10) + jitter[round-1])
		dec := d.step(now)
		require.True(t, dec.Round, "round %d", round)
		if dec.Optimistic != cur {
			changes = append(changes, round)
			cur = dec.Optimistic
		}
	}
	assert.Equal(t, []int{3, 6, 9, 12}, changes)
}

// TestOptimisticReplacedAtOnce: when the optimistic peer leaves, loses interest or earns a
// regular slot, a new one is drawn without waiting for its 30 s to end, for the rest of the
// turn: the rotation schedule does not move.
func TestOptimisticReplacedAtOnce(t *testing.T) {
	tests := []struct {
		name   string
		change func(d *driver, opt PeerID)
		now    float64
	}{
		{name: "leaves", now: 5, change: func(d *driver, opt PeerID) {
			d.peers = removePeer(d.peers, opt)
		}},
		{name: "loses interest", now: 5, change: func(d *driver, opt PeerID) {
			d.peer(opt).Interested = false
		}},
		{name: "wins a regular slot at the next round", now: 10, change: func(d *driver, opt PeerID) {
			d.peer(opt).DownRate = 1e6
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &driver{rng: newRNG(5), peers: swarmOf(8, at(0))}
			opt := d.step(at(0)).Optimistic
			tt.change(d, opt)
			dec := d.step(at(tt.now))
			require.True(t, dec.HasOptimistic)
			assert.NotEqual(t, opt, dec.Optimistic)
			assert.Equal(t, at(0), d.state.OptimisticAt)
			assert.Len(t, dec.Unchoke, 5)
			next := d.step(at(30))
			assert.NotEqual(t, dec.Optimistic, next.Optimistic, "rotates on schedule at 30 s")
			assert.Equal(t, at(30), d.state.OptimisticAt)
		})
	}
}

func removePeer(peers []Peer, id PeerID) []Peer {
	out := peers[:0]
	for _, p := range peers {
		if p.ID != id {
			out = append(out, p)
		}
	}
	return out
}

// TestNewcomersFavoured draws the optimistic slot many times among two peers connected
// 10 s ago and four connected an hour ago (the four fastest hold the regular slots): each
// newcomer must be picked about three times as often as each old peer.
func TestNewcomersFavoured(t *testing.T) {
	now := at(1000)
	peers := swarmOf(4, now)
	for id := PeerID(5); id <= 10; id++ {
		p := leecher(id, 0, now)
		if id <= 6 {
			p.ConnectedAt = now.Add(-10 * time.Second)
		}
		peers = append(peers, p)
	}
	rng := newRNG(6)
	counts := map[PeerID]int{}
	const trials = 20000
	for range trials {
		d, _ := Decide(Config{}, peers, State{}, now, false, rng)
		counts[d.Optimistic]++
	}
	require.Zero(t, counts[1]+counts[2]+counts[3]+counts[4], "regular peers drawn")
	newPer := float64(counts[5]+counts[6]) / 2
	oldPer := float64(counts[7]+counts[8]+counts[9]+counts[10]) / 4
	ratio := newPer / oldPer
	t.Logf("picks %v, newcomer/old per peer = %.3f", counts, ratio)
	assert.InDelta(t, 3.0, ratio, 0.2)
	// Expected shares: 3/10 per newcomer, 1/10 per old peer.
	for id, share := range map[PeerID]float64{5: 0.3, 6: 0.3, 7: 0.1, 8: 0.1, 9: 0.1, 10: 0.1} {
		assert.InDelta(t, share, float64(counts[id])/trials, 0.012, fmt.Sprint("peer ", id))
	}
}

// TestNewcomerWindowEnds: a peer exactly NewPeerWindow old is no longer favoured.
func TestNewcomerWindowEnds(t *testing.T) {
	now := at(1000)
	peers := swarmOf(4, now)
	young, old := leecher(5, 0, now), leecher(6, 0, now)
	young.ConnectedAt = now.Add(-59 * time.Second)
	old.ConnectedAt = now.Add(-60 * time.Second)
	peers = append(peers, young, old)
	rng := newRNG(8)
	counts := map[PeerID]int{}
	for range 10000 {
		d, _ := Decide(Config{}, peers, State{}, now, false, rng)
		counts[d.Optimistic]++
	}
	assert.InDelta(t, 3.0, float64(counts[5])/float64(counts[6]), 0.25)
}
