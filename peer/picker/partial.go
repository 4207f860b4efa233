package picker

import "slices"

// blockState is one block of a piece in progress: received, or requested from up to
// maxPeersPerBlock peers (more than one only in endgame).
type blockState struct {
	by       [maxPeersPerBlock]PeerID
	n        uint8
	received bool
}

func (b *blockState) requested(id PeerID) bool {
	return slices.Contains(b.by[:b.n], id)
}

func (b *blockState) add(id PeerID) {
	b.by[b.n] = id
	b.n++
}

// drop forgets the request from id and reports whether there was one.
func (b *blockState) drop(id PeerID) bool {
	for i := range b.n {
		if b.by[i] == id {
			b.n--
			b.by[i] = b.by[b.n]
			return true
		}
	}
	return false
}

// partial is a piece in progress: some block is requested or received.
type partial struct {
	piece       int32
	slot        int // position in Picker.active
	blocks      []blockState
	unreq       int // blocks neither received nor requested
	outstanding int // blocks requested and not received
	reqs        int // requests for its blocks, duplicates included
	received    int
	next        int // no unrequested block before this one
	contrib     []PeerID
}

func (pt *partial) contribute(id PeerID) {
	if !slices.Contains(pt.contrib, id) {
		pt.contrib = append(pt.contrib, id)
	}
}

// start moves piece i out of the rarity index into the pieces in progress.
func (p *Picker) start(i int32) *partial {
	p.unindex(i)
	n := p.numBlocks(int(i))
	pt := p.newPartial(n)
	pt.piece, pt.slot, pt.unreq = i, len(p.active), n
	p.parts[i] = pt
	p.active = append(p.active, pt)
	p.open++
	return pt
}

// drop forgets a piece in progress; the caller has released its requests. If the piece is
// still missing it goes back to the rarity index.
func (p *Picker) drop(pt *partial) {
	if pt.unreq > 0 {
		p.open--
	}
	last := p.active[len(p.active)-1]
	last.slot = pt.slot
	p.active[pt.slot] = last
	p.active = p.active[:len(p.active)-1]
	delete(p.parts, pt.piece)
	i := pt.piece
	defer p.recycle(pt)
	if p.have.Has(int(i)) {
		return
	}
	p.addUnreqPiece(i, p.numBlocks(int(i))-pt.unreq)
	p.reindex(i)
}

// maxFree bounds the recycled pieces in progress kept for reuse.
const maxFree = 64

// newPartial returns a cleared piece in progress of n blocks, reusing a dropped one when it
// is large enough: starting pieces is the hot path of Pick and would otherwise allocate.
func (p *Picker) newPartial(n int) *partial {
	if k := len(p.free); k > 0 && cap(p.free[k-1].blocks) >= n {
		pt := p.free[k-1]
		p.free = p.free[:k-1]
		pt.blocks = pt.blocks[:n]
		clear(pt.blocks)
		return pt
	}
	return &partial{blocks: make([]blockState, n)}
}

// recycle keeps a dropped piece in progress for reuse.
func (p *Picker) recycle(pt *partial) {
	if len(p.free) < maxFree {
		*pt = partial{blocks: pt.blocks[:0], contrib: pt.contrib[:0]}
		p.free = append(p.free, pt)
	}
}

// dropIfIdle drops a piece in progress that has nothing requested and nothing received, so
// that it competes again by rarity and costs no per-block memory.
func (p *Picker) dropIfIdle(pt *partial) {
	if pt.outstanding == 0 && pt.received == 0 {
		p.drop(pt)
	}
}

// addUnreq changes the unrequested count of piece pt by d, keeping the totals.
func (p *Picker) addUnreq(pt *partial, d int) {
	was := pt.unreq
	pt.unreq += d
	switch {
	case was == 0 && pt.unreq > 0:
		p.open++
	case was > 0 && pt.unreq == 0:
		p.open--
	}
	p.addUnreqPiece(pt.piece, d)
}

// request records block j of pt as requested from id.
func (p *Picker) request(pt *partial, j int, id PeerID, ps *peerState) Block {
	b := &pt.blocks[j]
	if b.n == 0 {
		p.addUnreq(pt, -1)
		pt.outstanding++
		p.inflight++
	}
	b.add(id)
	pt.reqs++
	ps.pending[pt.piece]++
	ps.requested++
	return p.block(int(pt.piece), j)
}

// unrequest forgets the request of block j of pt from id, if any, and reports whether there
// was one.
func (p *Picker) unrequest(pt *partial, j int, id PeerID) bool {
	b := &pt.blocks[j]
	if !b.drop(id) {
		return false
	}
	pt.reqs--
	if ps := p.peers[id]; ps != nil {
		ps.unpend(pt.piece)
	}
	if b.n == 0 && !b.received {
		pt.outstanding--
		p.inflight--
		p.addUnreq(pt, 1)
		pt.next = min(pt.next, j)
	}
	return true
}

// addUnreqPiece adds d unrequested blocks of piece x to the totals.
func (p *Picker) addUnreqPiece(x int32, d int) {
	p.unreqAll += d
	if p.avail[x] == 0 {
		p.unreqZero += d
	}
}

// unrequested counts the unrequested blocks of missing pieces that some peer has.
func (p *Picker) unrequested() int {
	if p.seeds > 0 {
		return p.unreqAll
	}
	return p.unreqAll - p.unreqZero
}

// unreqOf is how many unrequested blocks piece i has.
func (p *Picker) unreqOf(i int32) int {
	if p.have.Has(int(i)) {
		return 0
	}
	if pt := p.parts[i]; pt != nil {
		return pt.unreq
	}
	return p.numBlocks(int(i))
}

// locate finds the piece in progress and block number of b, checking its geometry.
func (p *Picker) locate(b Block) (*partial, int, bool) {
	if b.Piece < 0 || b.Piece >= p.cfg.NumPieces {
		return nil, 0, false
	}
	pt := p.parts[int32(b.Piece)]
	if pt == nil || int64(b.Begin)%p.blockSize != 0 {
		return nil, 0, false
	}
	j := int(int64(b.Begin) / p.blockSize)
	if j >= len(pt.blocks) || p.block(b.Piece, j) != b {
		return nil, 0, false
	}
	return pt, j, true
}
