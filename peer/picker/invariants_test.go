package picker

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer/bitfield"
)

const kib = 1024

// newTest returns a picker over n pieces of pieceLen bytes, total bytes in all, seeded.
func newTest(t testing.TB, n int, pieceLen, total int64, mod ...func(*Config)) *Picker {
	t.Helper()
	cfg := Config{NumPieces: n, PieceLength: pieceLen, TotalLength: total, Rand: rand.New(rand.NewPCG(1, 2))}
	for _, f := range mod {
		f(&cfg)
	}
	require.NoError(t, cfg.Validate())
	return New(cfg, bitfield.New(n))
}

// bf returns a bitfield of n pieces with the given ones set.
func bf(n int, pieces ...int) bitfield.Bitfield {
	b := bitfield.New(n)
	for _, i := range pieces {
		b.Set(i)
	}
	return b
}

func full(n int) bitfield.Bitfield {
	b := bitfield.New(n)
	for i := range n {
		b.Set(i)
	}
	return b
}

// checkInvariants recomputes every counter of p from scratch and compares.
func checkInvariants(t testing.TB, p *Picker) {
	t.Helper()
	if err := invariants(p); err != nil {
		t.Fatal(err)
	}
}

func invariants(p *Picker) error {
	n := p.cfg.NumPieces
	if err := checkAvail(p, n); err != nil {
		return err
	}
	if err := checkIndex(p, n); err != nil {
		return err
	}
	if err := checkPartials(p); err != nil {
		return err
	}
	all, zero := 0, 0
	for i := range n {
		all += p.unreqOf(int32(i))
		if p.avail[i] == 0 {
			zero += p.unreqOf(int32(i))
		}
	}
	if all != p.unreqAll || zero != p.unreqZero {
		return fmt.Errorf("unrequested %d/%d, recomputed %d/%d", p.unreqAll, p.unreqZero, all, zero)
	}
	if p.Done() != (p.have.Count() == n) || p.numHave != p.have.Count() {
		return fmt.Errorf("done %v with %d/%d verified", p.Done(), p.have.Count(), n)
	}
	return nil
}

func checkAvail(p *Picker, n int) error {
	count := make([]int32, n)
	seeds := 0
	for id, ps := range p.peers {
		if ps.seed != (n > 0 && ps.has.Full()) || ps.count != ps.has.Count() {
			return fmt.Errorf("peer %d seed %v with %d/%d pieces (count %d)", id, ps.seed, ps.has.Count(), n, ps.count)
		}
		if ps.seed {
			seeds++
		}
		interesting, cand := 0, 0
		eachSet(ps.has, func(i int) {
			if !ps.seed {
				count[i]++
			}
			if !p.have.Has(i) {
				interesting++
			}
			if p.idx.has(int32(i)) {
				cand++
			}
		})
		if interesting != ps.interesting || cand != ps.cand {
			return fmt.Errorf("peer %d interesting %d, candidates %d, recomputed %d, %d", id, ps.interesting, ps.cand, interesting, cand)
		}
		if p.list[ps.slot] != ps {
			return fmt.Errorf("peer %d not at its slot %d", id, ps.slot)
		}
	}
	if seeds != p.seeds {
		return fmt.Errorf("%d seeds, recomputed %d", p.seeds, seeds)
	}
	if len(p.list) != len(p.peers) {
		return fmt.Errorf("%d peers listed, %d known", len(p.list), len(p.peers))
	}
	for i := range n {
		if p.avail[i] < 0 || p.avail[i] != count[i] {
			return fmt.Errorf("piece %d availability %d, recomputed %d", i, p.avail[i], count[i])
		}
	}
	return nil
}

func checkIndex(p *Picker, n int) error {
	ix := &p.idx
	if ix.start[0] != 0 || ix.start[ix.buckets()] != len(ix.order) {
		return fmt.Errorf("bucket bounds %v for %d pieces", ix.start, len(ix.order))
	}
	for k := range ix.buckets() {
		for pos := ix.start[k]; pos < ix.start[k+1]; pos++ {
			x := ix.order[pos]
			if int(ix.pos[x]) != pos || int(p.avail[x]) != k {
				return fmt.Errorf("piece %d at %d (pos %d) in bucket %d has availability %d", x, pos, ix.pos[x], k, p.avail[x])
			}
		}
	}
	for i := range n {
		want := !p.have.Has(i) && p.parts[int32(i)] == nil
		if ix.has(int32(i)) != want {
			return fmt.Errorf("piece %d indexed %v, want %v", i, ix.has(int32(i)), want)
		}
	}
	return nil
}

func checkPartials(p *Picker) error {
	pending := map[PeerID]map[int32]int32{}
	open, inflight := 0, 0
	for slot, pt := range p.active {
		if pt.slot != slot || p.parts[pt.piece] != pt || p.have.Has(int(pt.piece)) {
			return fmt.Errorf("partial %d slot %d/%d or verified", pt.piece, pt.slot, slot)
		}
		if err := checkPartial(p, pt, pending); err != nil {
			return err
		}
		if pt.unreq > 0 {
			open++
		}
		inflight += pt.outstanding
	}
	if len(p.parts) != len(p.active) || open != p.open || inflight != p.inflight {
		return fmt.Errorf("%d parts, %d active, open %d/%d, inflight %d/%d", len(p.parts), len(p.active), p.open, open, p.inflight, inflight)
	}
	return checkPending(p, pending)
}

// checkPartial recounts the blocks of pt and adds its requests to pending.
func checkPartial(p *Picker, pt *partial, pending map[PeerID]map[int32]int32) error {
	var unreq, out, recv, reqs int
	for j, b := range pt.blocks {
		reqs += int(b.n)
		switch {
		case b.received:
			recv++
		case b.n > 0:
			out++
		case j < pt.next:
			return fmt.Errorf("piece %d block %d unrequested before next %d", pt.piece, j, pt.next)
		default:
			unreq++
		}
		if b.received && b.n != 0 || int(b.n) > p.maxDup {
			return fmt.Errorf("piece %d block %d: %d requesters, received %v", pt.piece, j, b.n, b.received)
		}
		for k, id := range b.by[:b.n] {
			if p.peers[id] == nil {
				return fmt.Errorf("piece %d block %d outstanding to gone peer %d", pt.piece, j, id)
			}
			if slices.Contains(b.by[:k], id) {
				return fmt.Errorf("piece %d block %d requested twice from %d", pt.piece, j, id)
			}
			if pending[id] == nil {
				pending[id] = map[int32]int32{}
			}
			pending[id][pt.piece]++
		}
	}
	if unreq != pt.unreq || out != pt.outstanding || recv != pt.received || reqs != pt.reqs {
		return fmt.Errorf("piece %d counts %d/%d/%d/%d, recomputed %d/%d/%d/%d", pt.piece,
			pt.unreq, pt.outstanding, pt.received, pt.reqs, unreq, out, recv, reqs)
	}
	if out == 0 && recv == 0 {
		return fmt.Errorf("piece %d in progress with nothing requested or received", pt.piece)
	}
	return nil
}

// checkPending compares each peer's outstanding counts with those recounted from the blocks.
func checkPending(p *Picker, pending map[PeerID]map[int32]int32) error {
	for id, ps := range p.peers {
		total := 0
		for i, c := range ps.pending {
			total += int(c)
			if pending[id][i] != c {
				return fmt.Errorf("peer %d pending %d in piece %d, recomputed %d", id, c, i, pending[id][i])
			}
		}
		if total != ps.requested || len(ps.pending) != len(pending[id]) {
			return fmt.Errorf("peer %d requested %d, recomputed %d", id, ps.requested, total)
		}
	}
	return nil
}
