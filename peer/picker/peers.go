package picker

import (
	"encoding/binary"
	"math/bits"
	"slices"

	"github.com/swarm-bt/swarm/peer/bitfield"
)

// peerState is what the picker knows of one peer.
type peerState struct {
	has         bitfield.Bitfield
	count       int             // pieces set in has
	seed        bool            // has every piece: counted in Picker.seeds, not per piece
	slot        int             // position in Picker.list
	cand        int             // pieces it has that are in the rarity index (new pieces to start)
	interesting int             // pieces it has that we lack
	pending     map[int32]int32 // outstanding requests per piece
	requested   int             // outstanding requests in all
	suggested   []int32         // suggest_piece from it (BEP 6), oldest first, at most maxSuggested
	suggests    bool            // it has sent a suggestion: a seed that hands out pieces
}

func (ps *peerState) unpend(i int32) {
	ps.requested--
	if ps.pending[i]--; ps.pending[i] == 0 {
		delete(ps.pending, i)
	}
}

// peer returns the state of id, creating an empty one (BEP 3 lets a peer that has nothing
// skip the bitfield and send haves later).
func (p *Picker) peer(id PeerID) *peerState {
	ps := p.peers[id]
	if ps == nil {
		ps = &peerState{has: bitfield.New(p.cfg.NumPieces), pending: make(map[int32]int32), slot: len(p.list)}
		p.peers[id] = ps
		p.list = append(p.list, ps)
	}
	return ps
}

// PeerBitfield records a peer's bitfield (replacing any earlier one). Bits beyond NumPieces
// are ignored; a shorter bitfield counts as zeros there (the engine rejects both on the wire).
func (p *Picker) PeerBitfield(id PeerID, bf bitfield.Bitfield) {
	ps := p.peer(id)
	p.forget(ps)
	if bf.Len() == p.cfg.NumPieces {
		ps.has = bf.Clone()
	} else {
		ps.has = bitfield.New(p.cfg.NumPieces)
		eachSet(bf, func(i int) {
			if i < p.cfg.NumPieces {
				ps.has.Set(i)
			}
		})
	}
	ps.count = ps.has.Count()
	if ps.count == p.cfg.NumPieces && ps.count > 0 {
		p.becomeSeed(ps)
		return
	}
	eachSet(ps.has, func(i int) { p.gain(ps, i) })
}

// forget uncounts everything ps has.
func (p *Picker) forget(ps *peerState) {
	if ps.seed {
		p.seeds--
		ps.seed, ps.interesting, ps.cand = false, 0, 0
		return
	}
	eachSet(ps.has, func(i int) { p.lose(ps, i) })
}

// becomeSeed counts ps, which has every piece and no per-piece count, as a seed: a seed
// arriving or leaving costs nothing per piece, and seeds do not hide the rare pieces that only
// seeds have from the index scan of the other peers.
func (p *Picker) becomeSeed(ps *peerState) {
	ps.seed = true
	p.seeds++
	ps.interesting = p.cfg.NumPieces - p.numHave
	ps.cand = len(p.idx.order)
}

// PeerHave records a peer's have message. A have for a piece the peer already announced, or
// out of range, changes nothing.
func (p *Picker) PeerHave(id PeerID, piece int) {
	if piece < 0 || piece >= p.cfg.NumPieces {
		return
	}
	ps := p.peer(id)
	if ps.has.Has(piece) {
		return
	}
	ps.has.Set(piece)
	p.gain(ps, piece)
	if ps.count++; ps.count == p.cfg.NumPieces {
		eachSet(ps.has, func(i int) { p.lose(ps, i) })
		p.becomeSeed(ps)
	}
}

// PeerGone forgets a peer's availability and returns its outstanding requests to the pool.
// Its past contributions stay listed in Contributors.
func (p *Picker) PeerGone(id PeerID) {
	ps := p.peers[id]
	if ps == nil {
		return
	}
	p.ReleasePeer(id)
	p.forget(ps)
	delete(p.peers, id)
	last := p.list[len(p.list)-1]
	last.slot = ps.slot
	p.list[ps.slot] = last
	p.list = p.list[:len(p.list)-1]
}

// ReleasePeer returns every block outstanding to id to the pool (the peer choked us or
// stalled) and lists them, by piece and offset, so the engine can forget or cancel them.
func (p *Picker) ReleasePeer(id PeerID) []Block {
	ps := p.peers[id]
	if ps == nil || ps.requested == 0 {
		return nil
	}
	pieces := make([]int32, 0, len(ps.pending))
	for i := range ps.pending {
		pieces = append(pieces, i)
	}
	slices.Sort(pieces) // deterministic order of random draws
	var out []Block
	for _, i := range pieces {
		pt := p.parts[i]
		if pt == nil {
			continue // unreachable: dropping a piece releases its requests first
		}
		for j := range pt.blocks {
			if p.unrequest(pt, j, id) {
				out = append(out, p.block(int(i), j))
			}
		}
		p.dropIfIdle(pt)
	}
	return out
}

// gain counts piece i, newly announced by ps.
func (p *Picker) gain(ps *peerState, i int) {
	if !p.have.Has(i) {
		ps.interesting++
	}
	x := int32(i)
	k := p.avail[x]
	if k == 0 {
		p.unreqZero -= p.unreqOf(x)
	}
	if p.idx.has(x) {
		p.idx.inc(x, int(k), p.rng)
		ps.cand++
	}
	p.avail[x] = k + 1
}

// lose uncounts piece i, which ps no longer offers.
func (p *Picker) lose(ps *peerState, i int) {
	if !p.have.Has(i) {
		ps.interesting--
	}
	x := int32(i)
	k := p.avail[x]
	if p.idx.has(x) {
		p.idx.dec(x, int(k), p.rng)
		ps.cand--
	}
	p.avail[x] = k - 1
	if k == 1 {
		p.unreqZero += p.unreqOf(x)
	}
}

// unindex takes piece x out of the rarity index (it starts, or is verified).
func (p *Picker) unindex(x int32) {
	p.idx.remove(x, int(p.avail[x]))
	p.countCandidate(x, -1)
}

// reindex puts piece x back into the rarity index.
func (p *Picker) reindex(x int32) {
	p.idx.insert(x, int(p.avail[x]), p.rng)
	p.countCandidate(x, 1)
}

// countCandidate adds d to the candidates of every peer that has piece x.
func (p *Picker) countCandidate(x int32, d int) {
	if p.avail[x] == 0 && p.seeds == 0 {
		return
	}
	for _, ps := range p.list {
		if ps.has.Has(int(x)) {
			ps.cand += d
		}
	}
}

// eachSet calls f for every piece set in bf, in order, skipping empty 64-bit words.
func eachSet(bf bitfield.Bitfield, f func(int)) {
	b := bf.Bytes()
	base := 0
	for ; len(b) >= 8; b, base = b[8:], base+64 {
		eachBit(binary.BigEndian.Uint64(b), base, f)
	}
	var tail [8]byte
	copy(tail[:], b)
	eachBit(binary.BigEndian.Uint64(tail[:]), base, f)
}

// eachBit calls f(base+k) for every bit k set in w, counting from the most significant
// (BEP 3 bitfield order).
func eachBit(w uint64, base int, f func(int)) {
	for w != 0 {
		z := bits.LeadingZeros64(w)
		f(base + z)
		w &^= 1 << (63 - z)
	}
}

// Interesting reports whether peer id has any piece we lack.
func (p *Picker) Interesting(id PeerID) bool {
	ps := p.peers[id]
	return ps != nil && ps.interesting > 0
}
