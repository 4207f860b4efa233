package picker

import (
	"math/bits"
	"slices"

	"github.com/swarm-bt/swarm/peer/bitfield"
)

// peerState is what the picker knows of one peer.
type peerState struct {
	has         bitfield.Bitfield
	interesting int             // pieces it has that we lack
	pending     map[int32]int32 // outstanding requests per piece
	requested   int             // outstanding requests in all
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
		ps = &peerState{has: bitfield.New(p.cfg.NumPieces), pending: make(map[int32]int32)}
		p.peers[id] = ps
	}
	return ps
}

// PeerBitfield records a peer's bitfield (replacing any earlier one). Bits beyond NumPieces
// are ignored; a shorter bitfield counts as zeros there (the engine rejects both on the wire).
func (p *Picker) PeerBitfield(id PeerID, bf bitfield.Bitfield) {
	ps := p.peer(id)
	eachSet(ps.has, func(i int) { p.lose(ps, i) })
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
	eachSet(ps.has, func(i int) { p.gain(ps, i) })
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
}

// PeerGone forgets a peer's availability and returns its outstanding requests to the pool.
// Its past contributions stay listed in Contributors.
func (p *Picker) PeerGone(id PeerID) {
	ps := p.peers[id]
	if ps == nil {
		return
	}
	p.ReleasePeer(id)
	eachSet(ps.has, func(i int) { p.lose(ps, i) })
	delete(p.peers, id)
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
		p.unreq += p.unreqOf(x)
	}
	if p.idx.has(x) {
		p.idx.inc(x, int(k), p.rng)
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
	}
	p.avail[x] = k - 1
	if k == 1 {
		p.unreq -= p.unreqOf(x)
	}
}

// eachSet calls f for every piece set in bf, skipping empty bytes.
func eachSet(bf bitfield.Bitfield, f func(int)) {
	for bi, x := range bf.Bytes() {
		for x != 0 {
			z := bits.LeadingZeros8(x)
			f(bi*8 + z)
			x &^= 0x80 >> z
		}
	}
}

// Interesting reports whether peer id has any piece we lack.
func (p *Picker) Interesting(id PeerID) bool {
	ps := p.peers[id]
	return ps != nil && ps.interesting > 0
}
