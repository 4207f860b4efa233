package sim

import (
	"math/bits"
	"slices"

	"github.com/swarm-bt/swarm/choke"
)

// choke runs u's choker over its links, exactly as the engine would: a snapshot of every
// connected peer, the previous state, the virtual now, then the decision applied. It is
// called every tick; choke.Decide itself runs a full round only every Interval.
func (s *swarm) choke(u *node) {
	secs := s.cfg.RateWindow.Seconds()
	var peers []choke.Peer
	for _, v := range s.nodes {
		if v == u || !v.present {
			continue
		}
		p := choke.Peer{
			ID:          choke.PeerID(v.idx),
			Interested:  s.interested(v, u),
			Choked:      u.choked[v.idx],
			DownRate:    float64(u.recv[v.idx].sum) / secs,
			UpRate:      float64(u.sent[v.idx].sum) / secs,
			ConnectedAt: s.at(s.connectedAt(u, v)),
		}
		if u.heard[v.idx] {
			p.LastBlockAt = s.at(u.last[v.idx])
		}

		peers = append(peers, p)
	}
	cfg, seeding := s.cfg.Choke, u.done
	cfg.SeedPolicy = s.cfg.SeederPolicy
	if s.cfg.Blind {
		cfg.SeedPolicy, seeding = choke.SeedRoundRobin, true
	}
	d, st := choke.Decide(cfg, peers, u.state, s.at(s.now), seeding, u.rng)
	u.state = st
	for _, p := range peers {
		u.choked[p.ID] = !slices.Contains(d.Unchoke, p.ID)
	}
}

// upload moves one tick of u's upload capacity, split equally among the interested peers u
// unchokes. Links u no longer serves lose their fetch assignment.
func (s *swarm) upload(u *node) {
	if !u.present {
		return // nothing to release: leave released every fetch from u
	}
	var to []*node
	for _, v := range s.nodes {
		if !u.present || u.choked[v.idx] || !s.interested(v, u) || u.rate == 0 {
			v.release(u.idx)
			continue
		}
		to = append(to, v)
	}
	if len(to) == 0 {
		return
	}
	share := int64(u.rate * s.cfg.Tick.Seconds() / float64(len(to)))
	for _, v := range to {
		s.send(u, v, share)
	}
}

// send moves up to budget bytes from u to v, piece after piece.
func (s *swarm) send(u, v *node, budget int64) {
	moved := int64(0)
	for budget > 0 && !v.done {
		p := v.fetch[u.idx]
		if p < 0 || v.have.has(p) || !u.have.has(p) {
			v.release(u.idx)
			if p = s.pick(v, u); p < 0 {
				break
			}
			v.fetch[u.idx] = p
			v.busy[p]++
		}
		x := min(budget, s.pieceLen(p)-v.partial[p])
		v.partial[p] += x
		budget -= x
		moved += x
		if v.partial[p] == s.pieceLen(p) {
			v.release(u.idx)
			s.complete(v, p)
		}
	}
	if moved == 0 {
		return
	}
	u.sent[v.idx].add(moved)
	v.recv[u.idx].add(moved)
	v.last[u.idx], v.heard[u.idx] = s.now, true
	v.received += moved
	if u.kind == seeder {
		v.fromSeeder += moved
	}
}

// pick chooses the piece v fetches next from u, among those u has and v lacks: first a
// piece no other uploader is sending v, then one already started (finish partial pieces),
// then the rarest in the swarm, ties at random. -1 if u has nothing v needs.
func (s *swarm) pick(v, u *node) int {
	best, ties := -1, 0
	var bestKey [3]int
	for w := range u.have {
		cand := u.have[w] &^ v.have[w]
		for cand != 0 {
			bit := bits.TrailingZeros64(cand)
			cand &^= 1 << bit
			p := w*64 + bit
			key := [3]int{v.busy[p], 1, s.avail[p]}
			if v.partial[p] > 0 {
				key[1] = 0
			}
			switch c := compareKeys(key, bestKey); {
			case best < 0 || c < 0:
				best, bestKey, ties = p, key, 1
			case c == 0:
				ties++
				if v.rng.IntN(ties) == 0 {
					best = p
				}
			}
		}
	}
	return best
}

func compareKeys(a, b [3]int) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}
