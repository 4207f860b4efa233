package picker

import "slices"

// Received records a block from id. It reports whether the block was expected from id,
// whether its piece now has every block (ready to verify), and the other peers that had the
// same block requested (to cancel, in endgame).
//
// An unexpected block (not requested from id, already received, or not matching the piece
// geometry) changes nothing and must be discarded. The peers in cancel no longer hold the
// request in the picker: the engine sends them a cancel and must not Release the block; if
// their copy still arrives, Received reports it unexpected.
func (p *Picker) Received(id PeerID, b Block) (expected, pieceDone bool, cancel []PeerID) {
	pt, j, ok := p.locate(b)
	if !ok {
		return false, false, nil
	}
	bs := &pt.blocks[j]
	if bs.received || !bs.requested(id) {
		return false, false, nil
	}
	for _, other := range bs.by[:bs.n] {
		if other != id {
			cancel = append(cancel, other)
		}
		p.peers[other].unpend(pt.piece)
	}
	pt.reqs -= int(bs.n)
	bs.n = 0
	bs.received = true
	pt.outstanding--
	p.inflight--
	pt.received++
	pt.contribute(id)
	return true, pt.received == len(pt.blocks), cancel
}

// Release returns a block requested from id to the pool (timeout, choke, reject). A block not
// outstanding to id is ignored.
func (p *Picker) Release(id PeerID, b Block) {
	pt, j, ok := p.locate(b)
	if !ok {
		return
	}
	if p.unrequest(pt, j, id) {
		p.dropIfIdle(pt)
	}
}

// PieceVerified marks a piece as ours after its hash matched. Requests still outstanding for
// it (possible only if the engine verified it early) are forgotten.
func (p *Picker) PieceVerified(piece int) {
	if piece < 0 || piece >= p.cfg.NumPieces || p.have.Has(piece) {
		return
	}
	x := int32(piece)
	pt := p.parts[x]
	if pt != nil {
		p.releaseAll(pt)
	}
	p.addUnreqPiece(x, -p.unreqOf(x))
	if p.idx.has(x) {
		p.unindex(x)
	}
	p.have.Set(piece)
	p.numHave++
	if pt != nil {
		p.drop(pt)
	}
	for _, ps := range p.list {
		if ps.has.Has(piece) {
			ps.interesting--
		}
	}
}

// PieceFailed resets a piece whose hash failed so it is downloaded again: every block becomes
// unrequested and its contributors are forgotten (read them with Contributors first).
func (p *Picker) PieceFailed(piece int) {
	if piece < 0 || piece >= p.cfg.NumPieces {
		return
	}
	pt := p.parts[int32(piece)]
	if pt == nil {
		return
	}
	p.releaseAll(pt)
	p.drop(pt)
}

// releaseAll forgets every request for pt's blocks.
func (p *Picker) releaseAll(pt *partial) {
	for j := range pt.blocks {
		b := &pt.blocks[j]
		for b.n > 0 {
			p.unrequest(pt, j, b.by[0])
		}
	}
}

// Contributors lists the peers that sent blocks of a piece in progress, in the order of their
// first block, so the engine can give strikes when the piece fails (call it before
// PieceFailed) or credit them when it verifies (before PieceVerified). Nil for a piece not in
// progress.
func (p *Picker) Contributors(piece int) []PeerID {
	if piece < 0 || piece >= p.cfg.NumPieces {
		return nil
	}
	if pt := p.parts[int32(piece)]; pt != nil {
		return slices.Clone(pt.contrib)
	}
	return nil
}
