package choke

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// round holds one call of Decide. Peers are referred to by their index in peers, which is
// sorted by ID so that the result does not depend on the order the engine listed them in.
type round struct {
	cfg     Config
	peers   []Peer
	prev    State
	now     time.Time
	seeding bool
	rng     *rand.Rand
	due     bool   // a full round runs
	snubbed []bool // parallel to peers; always false when seeding
}

func newRound(cfg Config, peers []Peer, prev State, now time.Time, seeding bool, rng *rand.Rand) *round {
	ps := slices.Clone(peers)
	for i := range ps {
		ps[i].DownRate = cleanRate(ps[i].DownRate)
		ps[i].UpRate = cleanRate(ps[i].UpRate)
	}
	slices.SortStableFunc(ps, func(a, b Peer) int { return cmp.Compare(a.ID, b.ID) })
	r := &round{cfg: cfg, peers: ps, prev: prev, now: now, seeding: seeding, rng: rng}
	r.due = prev.RoundDue(cfg, now, seeding)
	r.snubbed = make([]bool, len(ps))
	for i := range ps {
		r.snubbed[i] = !seeding && r.isSnubbed(ps[i])
	}
	return r
}

// cleanRate turns a rate the engine got wrong (negative, NaN, infinite) into something
// sortable, so bad input never makes the ranking inconsistent.
func cleanRate(v float64) float64 {
	switch {
	case math.IsNaN(v) || v < 0:
		return 0
	case math.IsInf(v, 1):
		return math.MaxFloat64
	}
	return v
}

// isSnubbed: no block from p for SnubTimeout (counted from the connection if it never sent
// one). Mainline's anti-snubbing: such a peer keeps only the optimistic slot.
func (r *round) isSnubbed(p Peer) bool {
	heard := p.ConnectedAt
	if p.LastBlockAt.After(heard) {
		heard = p.LastBlockAt
	}
	return r.now.Sub(heard) >= r.cfg.SnubTimeout
}

func (r *round) decide() (Decision, State) {
	next := r.prev
	regular := r.regular(&next)
	d := Decision{Round: r.due, Unchoke: make([]PeerID, 0, len(regular)+1)}
	for _, i := range regular {
		d.Unchoke = append(d.Unchoke, r.peers[i].ID)
	}
	if o, ok := r.optimistic(regular, &next); ok {
		d.Unchoke = append(d.Unchoke, r.peers[o].ID)
		d.Optimistic, d.HasOptimistic = r.peers[o].ID, true
	}
	for i, s := range r.snubbed {
		if s {
			d.Snubbed = append(d.Snubbed, r.peers[i].ID)
		}
	}
	if r.due {
		next.LastRound = r.now
		if r.prev.Seeding == r.seeding {
			next.LastRound = anchor(r.prev.LastRound, r.cfg.Interval, r.cfg.tolerance(), r.now)
		}
		next.Seeding = r.seeding
	}
	return d, next
}

// isOptimistic reports whether peer i holds the optimistic slot per the previous state.
func (r *round) isOptimistic(i int) bool {
	return r.prev.HasOptimistic && r.peers[i].ID == r.prev.Optimistic
}

// isHolder reports whether peer i holds a regular slot now: unchoked, not optimistic.
func (r *round) isHolder(i int) bool {
	return !r.peers[i].Choked && !r.isOptimistic(i)
}

// eligible reports whether peer i may take a regular slot: interested and, when leeching,
// not snubbing us.
func (r *round) eligible(i int) bool {
	return r.peers[i].Interested && !r.snubbed[i]
}

// regular picks the regular slots, in rank order. In a full round every slot is re-ranked;
// between rounds the holders that are still interested keep their slots and only free slots
// are filled.
func (r *round) regular(next *State) []int {
	var keep []int
	if !r.due {
		for i := range r.peers {
			if r.isHolder(i) && r.peers[i].Interested {
				keep = append(keep, i)
			}
		}
	}
	if len(keep) >= r.cfg.Slots {
		// More holders than slots only if Slots shrank or the engine unchoked on its own.
		return r.best(keep, r.cfg.Slots)
	}
	free := r.cfg.Slots - len(keep)
	var cands []int
	for i := range r.peers {
		if r.eligible(i) && !slices.Contains(keep, i) {
			cands = append(cands, i)
		}
	}
	if r.seeding && r.cfg.SeedPolicy == SeedRoundRobin {
		return append(keep, r.rotate(cands, free, next)...)
	}
	return append(keep, r.best(cands, free)...)
}

// best returns the n candidates with the highest rate: download rate when leeching (who
// gives us the most), upload rate when seeding (who takes the most, so can pass it on). A
// holder's rate counts Hysteresis more, and exact ties go to holders, so that equal peers do
// not swap slots every round; remaining ties are broken at random.
func (r *round) best(cands []int, n int) []int {
	r.rng.Shuffle(len(cands), func(a, b int) { cands[a], cands[b] = cands[b], cands[a] })
	score := func(i int) float64 {
		v := r.peers[i].DownRate
		if r.seeding {
			v = r.peers[i].UpRate
		}
		if r.isHolder(i) {
			v *= 1 + r.cfg.Hysteresis
		}
		return v
	}
	slices.SortStableFunc(cands, func(a, b int) int {
		if c := cmp.Compare(score(b), score(a)); c != 0 {
			return c
		}
		return boolRank(r.isHolder(b)) - boolRank(r.isHolder(a))
	})
	return cands[:min(n, len(cands))]
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// rotate takes the next n candidates (sorted by ID) from the round-robin cursor, wrapping
// around, and moves the cursor past the last one taken.
func (r *round) rotate(cands []int, n int, next *State) []int {
	if len(cands) == 0 {
		return nil
	}
	start := 0
	for k, i := range cands {
		if int(r.peers[i].ID) >= r.prev.RoundRobin {
			start = k
			break
		}
	}
	n = min(n, len(cands))
	out := make([]int, 0, n)
	for k := range n {
		out = append(out, cands[(start+k)%len(cands)])
	}
	next.RoundRobin = int(r.peers[out[len(out)-1]].ID) + 1
	return out
}
