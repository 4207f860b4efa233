package choke

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flaps runs rounds every 10 s for 20 rounds over eight peers whose download rates are
// base ± jitter (a fresh draw each round) and counts the regular slots that changed hands.
func flaps(t *testing.T, cfg Config, jitter float64, seed uint64) int {
	t.Helper()
	d := &driver{cfg: cfg, rng: newRNG(seed)}
	noise := newRNG(seed + 1000)
	for id := PeerID(1); id <= 8; id++ {
		d.peers = append(d.peers, leecher(id, 1000, at(0)))
	}
	var last []PeerID
	changed := 0
	for round := range 20 {
		now := at(float64(10 * round))
		for i := range d.peers {
			d.peers[i].DownRate = 1000 * (1 + jitter*(2*noise.Float64()-1))
			d.peers[i].LastBlockAt = now
		}
		reg := sorted(regularOf(d.step(now)))
		require.Len(t, reg, 4)
		for _, id := range reg {
			if last != nil && !slices.Contains(last, id) {
				changed++
			}
		}
		last = reg
	}
	return changed
}

// TestTieStability: peers with equal rates, or rates within the hysteresis of each other,
// keep their slots round after round; without hysteresis, measurement noise makes them
// flap.
func TestTieStability(t *testing.T) {
	for seed := range uint64(5) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			assert.Equal(t, 0, flaps(t, Config{}, 0, seed), "exact ties")
			assert.Equal(t, 0, flaps(t, Config{}, 0.04, seed), "rates within ±4 %")
			assert.Greater(t, flaps(t, Config{Hysteresis: -1}, 0.04, seed), 5, "no hysteresis")
			assert.Equal(t, 0, flaps(t, Config{Hysteresis: -1}, 0, seed), "exact ties, no hysteresis")
		})
	}
}

// TestDeterministic: the same seed and inputs give the same decisions, whatever order the
// engine lists its peers in.
func TestDeterministic(t *testing.T) {
	run := func(shuffle uint64) []Decision {
		d := &driver{rng: newRNG(42)}
		for id := PeerID(1); id <= 12; id++ {
			d.peers = append(d.peers, leecher(id, float64(id%3), at(0)))
		}
		order := rand.New(rand.NewPCG(shuffle, 1))
		var out []Decision
		for s := range 100 {
			order.Shuffle(len(d.peers), func(i, j int) { d.peers[i], d.peers[j] = d.peers[j], d.peers[i] })
			out = append(out, d.step(at(float64(3*s))))
		}
		return out
	}
	assert.Equal(t, run(1), run(2))
}

// TestBetweenRounds: calls between rounds keep the holders even when rates change, fill a
// free slot with the best eligible peer, drop a holder that lost interest, and leave
// snubbing to the next round.
func TestBetweenRounds(t *testing.T) {
	now := at(0)
	d := &driver{rng: newRNG(9)}
	for id := PeerID(1); id <= 3; id++ {
		d.peers = append(d.peers, leecher(id, float64(id), now))
	}
	dec := d.step(now)
	require.Equal(t, []PeerID{3, 2, 1}, regularOf(dec))
	require.False(t, dec.HasOptimistic)

	d.peers = append(d.peers, leecher(4, 0, at(2)), leecher(5, 50, at(2)))
	d.peer(1).DownRate = 0
	d.peer(2).DownRate = 1e6
	dec = d.step(at(2))
	assert.False(t, dec.Round)
	assert.Equal(t, []PeerID{1, 2, 3, 5}, regularOf(dec), "holders by ID, then the best newcomer")
	assert.Equal(t, PeerID(4), dec.Optimistic, "the spare peer gets the empty optimistic slot")

	d.peer(3).Interested = false
	d.peer(1).LastBlockAt = at(-100) // snubbed, but only judged in rounds
	dec = d.step(at(4))
	assert.Equal(t, []PeerID{1, 2, 5, 4}, regularOf(dec), "3 is dropped; its slot goes to 4")
	assert.False(t, dec.HasOptimistic, "nobody left for the optimistic slot")

	dec = d.step(at(10))
	require.True(t, dec.Round)
	assert.Equal(t, []PeerID{2, 5, 4}, regularOf(dec), "the round demotes snubbed 1")
	assert.Equal(t, PeerID(1), dec.Optimistic)
	assert.Equal(t, []PeerID{1}, dec.Snubbed)
}

// TestRoundAnchoring: a round run within the tolerance of its schedule is recorded at the
// scheduled time; a late one at its real time.
func TestRoundAnchoring(t *testing.T) {
	d := &driver{rng: newRNG(1), peers: swarmOf(6, at(0))}
	for _, c := range []struct{ now, want float64 }{{0, 0}, {9.6, 10}, {20.4, 20}, {35, 35}, {44.7, 45}} {
		require.True(t, d.step(at(c.now)).Round, "call at %v", c.now)
		assert.Equal(t, at(c.want), d.state.LastRound, "call at %v", c.now)
	}
}

// TestInvariants throws random swarms at Decide, called at random times, and checks what
// must always hold.
func TestInvariants(t *testing.T) {
	rng := newRNG(77)
	for trial := range 300 {
		cfg := Config{Slots: rng.IntN(6), SeedPolicy: SeedPolicy(rng.IntN(2)), Hysteresis: rng.Float64() - 0.5}
		d := &driver{cfg: cfg, rng: newRNG(uint64(trial)), seeding: rng.IntN(3) == 0}
		for id := range rng.IntN(15) {
			d.peers = append(d.peers, randomPeer(rng, PeerID(id*7-20)))
		}
		now := at(0)
		for range 30 {
			now = now.Add(time.Duration(rng.IntN(15000)) * time.Millisecond)
			for i := range d.peers {
				if rng.IntN(5) == 0 {
					d.peers[i] = randomPeer(rng, d.peers[i].ID)
				}
			}
			checkInvariants(t, d.cfg.withDefaults(), d.peers, d.step(now))
		}
	}
}

func randomPeer(rng *rand.Rand, id PeerID) Peer {
	return Peer{ID: id, Interested: rng.IntN(4) != 0, Choked: rng.IntN(2) == 0,
		DownRate: float64(rng.IntN(4)) * 1000, UpRate: float64(rng.IntN(4)) * 1000,
		ConnectedAt: at(float64(-rng.IntN(200))), LastBlockAt: at(float64(-rng.IntN(200)))}
}

func checkInvariants(t *testing.T, cfg Config, peers []Peer, d Decision) {
	t.Helper()
	interested := map[PeerID]bool{}
	for _, p := range peers {
		interested[p.ID] = p.Interested
	}
	assert.LessOrEqual(t, len(d.Unchoke), cfg.Slots+1)
	assert.Len(t, slices.Compact(sorted(d.Unchoke)), len(d.Unchoke), "duplicates in %v", d.Unchoke)
	for _, id := range d.Unchoke {
		assert.True(t, interested[id], "unchoked peer %d is not interested", id)
	}
	if d.HasOptimistic {
		assert.Contains(t, d.Unchoke, d.Optimistic)
	}
	wanting := 0
	for _, ok := range interested {
		if ok {
			wanting++
		}
	}
	if wanting > 0 {
		assert.NotEmpty(t, d.Unchoke, "interested peers but nobody unchoked")
	}
}

// BenchmarkDecide: one full round over 50 peers, as a busy torrent would run every 10 s.
func BenchmarkDecide(b *testing.B) {
	rng := newRNG(1)
	var peers []Peer
	for id := range PeerID(50) {
		peers = append(peers, randomPeer(rng, id))
	}
	for b.Loop() {
		Decide(Config{}, peers, State{}, at(0), false, rng)
	}
}
