package sim

import (
	"math/bits"
	"math/rand/v2"
	"time"

	"github.com/swarm-bt/swarm/choke"
)

// node is one peer of the swarm. Slices indexed by another node's index hold the per-link
// state; the mesh is complete (every present node is connected to every other).
type node struct {
	idx     int
	kind    kind
	rate    float64 // upload bytes/s; 0 for a free-rider
	have    bitset
	count   int
	partial []int64 // bytes received of each piece not yet complete
	fetch   []int   // fetch[u]: the piece being fetched from u, or -1
	busy    []int   // busy[p]: how many uploaders are assigned piece p

	joinAt, doneAt, leaveAt time.Duration
	present, gone, done     bool
	leaves                  bool // leaveAt is set

	state  choke.State
	rng    *rand.Rand
	choked []bool   // choked[v]: we choke v
	recv   []window // recv[v]: bytes v sent us
	sent   []window // sent[v]: bytes we sent v
	last   []time.Duration
	heard  []bool // heard[v]: v ever sent us a block (last[v] is valid)

	received, fromSeeder int64
}

func (s *swarm) newNode(i int, k kind, n int) *node {
	slots := int(s.cfg.RateWindow / s.cfg.Tick)
	nd := &node{idx: i, kind: k, have: newBitset(s.pieces), partial: make([]int64, s.pieces),
		busy: make([]int, s.pieces), fetch: make([]int, n), choked: make([]bool, n),
		recv: make([]window, n), sent: make([]window, n), last: make([]time.Duration, n),
		heard: make([]bool, n), rng: rand.New(rand.NewPCG(s.cfg.Seed, uint64(i)))}
	for v := range n {
		nd.fetch[v], nd.choked[v] = -1, true
		nd.recv[v], nd.sent[v] = newWindow(slots), newWindow(slots)
	}
	switch k {
	case seeder:
		nd.rate = s.cfg.SeederRate
		for p := range s.pieces {
			nd.have.set(p)
		}
		nd.count, nd.done = s.pieces, true
	case contributor:
		nd.rate = s.cfg.LeecherRate
	}
	switch {
	case k != seeder && s.cfg.Arrival > 0:
		nd.joinAt = s.streamJoin(i, k)
	case k != seeder:
		nd.joinAt = time.Duration(s.rng.Int64N(int64(s.cfg.JoinSpread)))
	}
	return nd
}

// join connects n to every present node.
func (s *swarm) join(n *node) {
	n.present = true
	for p := range s.pieces {
		if n.have.has(p) {
			s.avail[p]++
		}
	}
}

// leave disconnects n: its pieces are no longer available and fetches from it end.
func (s *swarm) leave(n *node) {
	n.present, n.gone = false, true
	for p := range s.pieces {
		if n.have.has(p) {
			s.avail[p]--
		}
	}
	for _, v := range s.nodes {
		v.release(n.idx)
	}
}

// connectedAt is when the link between a and b came up: the later join.
func (s *swarm) connectedAt(a, b *node) time.Duration { return max(a.joinAt, b.joinAt) }

// interested: v wants a piece u has.
func (s *swarm) interested(v, u *node) bool {
	return v.present && u.present && v != u && !v.done && u.have.hasAnyNotIn(v.have)
}

// complete records piece p at v.
func (s *swarm) complete(v *node, p int) {
	v.have.set(p)
	v.count++
	v.partial[p] = 0
	s.avail[p]++
	if v.count == s.pieces {
		if v.kind == contributor && s.phase == nil {
			s.snapshotPhase()
		}
		v.done, v.doneAt = true, s.now+s.cfg.Tick
		v.leaves = v.kind == freeRider || s.cfg.Linger >= 0
		v.leaveAt = v.doneAt + max(s.cfg.Linger, 0)
	}
}

// snapshotPhase records the bytes every node received so far.
func (s *swarm) snapshotPhase() {
	s.phase = make([]int64, len(s.nodes))
	for i, n := range s.nodes {
		s.phase[i] = n.received
	}
}

// rateRatio is Result.RateRatio; 0 if unknown.
func (s *swarm) rateRatio() float64 {
	if s.phase == nil || s.cfg.FreeRiders == 0 {
		return 0
	}
	var sum int64
	for i, n := range s.nodes {
		if n.kind == contributor {
			sum += s.phase[i]
		}
	}
	fr := s.phase[1+s.cfg.Contributors]
	if fr == 0 {
		return 0
	}
	return float64(sum) / float64(s.cfg.Contributors) / float64(fr)
}

// release ends v's fetch from uploader u, if any.
func (v *node) release(u int) {
	if p := v.fetch[u]; p >= 0 {
		v.busy[p]--
		v.fetch[u] = -1
	}
}

// endTick advances n's rate windows. Only links between present nodes are advanced: a
// window of an absent node is all zeros before it joins and never read after it leaves.
func (n *node) endTick(nodes []*node) {
	if !n.present {
		return
	}
	for v := range n.recv {
		if nodes[v].present {
			n.recv[v].advance()
			n.sent[v].advance()
		}
	}
}

// window sums bytes per tick over a sliding window of ticks.
type window struct {
	slots []int64
	cur   int
	sum   int64
}

func newWindow(n int) window { return window{slots: make([]int64, max(n, 1))} }

func (w *window) add(b int64) { w.slots[w.cur] += b; w.sum += b }

// advance starts a new tick, forgetting the oldest one.
func (w *window) advance() {
	w.cur = (w.cur + 1) % len(w.slots)
	w.sum -= w.slots[w.cur]
	w.slots[w.cur] = 0
}

// bitset is a set of piece indexes.
type bitset []uint64

func newBitset(n int) bitset    { return make(bitset, (n+63)/64) }
func (b bitset) set(i int)      { b[i/64] |= 1 << (i % 64) }
func (b bitset) has(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }

// hasAnyNotIn reports whether b has an element that o lacks.
func (b bitset) hasAnyNotIn(o bitset) bool {
	for i := range b {
		if b[i]&^o[i] != 0 {
			return true
		}
	}
	return false
}

// count is the number of elements.
func (b bitset) count() int {
	c := 0
	for _, w := range b {
		c += bits.OnesCount64(w)
	}
	return c
}
