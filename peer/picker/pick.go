package picker

import "slices"

// randomTries is how many uniform draws the random-first phase makes before it falls back to
// a scan from a random position (a peer with few pieces rarely matches a draw).
const randomTries = 16

// partialMode selects which pieces in progress a pass of pickPartials considers.
type partialMode int

const (
	ownPieces    partialMode = iota // the peer already requested or sent blocks of it
	orphanPieces                    // nothing outstanding: its peers left, choked or timed out
	anyPieces                       // shared with the peers downloading it
)

// Pick returns up to max new blocks to request from peer id, which must have sent its
// availability. In endgame it returns blocks already requested from other peers.
//
// Order: blocks of pieces in progress that id is already downloading, then of abandoned pieces
// in progress, then new pieces (random while fewer than RandomFirst are verified, else rarest
// first with random ties), then the remaining blocks of pieces other peers are downloading, and
// in endgame duplicates of outstanding blocks. See NOTES.md.
func (p *Picker) Pick(id PeerID, max int) []Block {
	ps := p.peers[id]
	if ps == nil || max <= 0 || ps.interesting == 0 {
		return nil
	}
	out := make([]Block, 0, min(max, 64))
	out = p.pickPartials(id, ps, out, max, ownPieces)
	out = p.pickPartials(id, ps, out, max, orphanPieces)
	out = p.pickNew(id, ps, out, max)
	out = p.pickPartials(id, ps, out, max, anyPieces)
	if len(out) < max && p.InEndgame() {
		out = p.pickEndgame(id, ps, out, max)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// pickPartials takes unrequested blocks from the pieces in progress selected by mode.
func (p *Picker) pickPartials(id PeerID, ps *peerState, out []Block, max int, mode partialMode) []Block {
	for i := 0; p.open > 0 && i < len(p.active) && len(out) < max; i++ {
		pt := p.active[i]
		if pt.unreq == 0 || !ps.has.Has(int(pt.piece)) {
			continue
		}
		switch mode {
		case ownPieces:
			if ps.pending[pt.piece] == 0 && !slices.Contains(pt.contrib, id) {
				continue
			}
		case orphanPieces:
			if pt.outstanding > 0 {
				continue
			}
		}
		out = p.take(pt, id, ps, out, max)
	}
	return out
}

// take requests unrequested blocks of pt from id, in order, until out holds max.
func (p *Picker) take(pt *partial, id PeerID, ps *peerState, out []Block, max int) []Block {
	j := pt.next
	for ; j < len(pt.blocks) && len(out) < max && pt.unreq > 0; j++ {
		if b := &pt.blocks[j]; !b.received && b.n == 0 {
			out = append(out, p.request(pt, j, id, ps))
		}
	}
	pt.next = j // every block before j is now requested or received
	return out
}

// pickNew starts new pieces that id has until out holds max.
func (p *Picker) pickNew(id PeerID, ps *peerState, out []Block, max int) []Block {
	from := -1
	for len(out) < max {
		var x int32
		if p.numHave < p.random {
			x = p.randomPiece(ps)
		} else {
			x, from = p.rarestPiece(ps, from)
		}
		if x < 0 {
			break
		}
		out = p.take(p.start(x), id, ps, out, max)
	}
	return out
}

// firstAvailable is the index position of the first piece that some peer has.
func (p *Picker) firstAvailable() int {
	if p.idx.buckets() < 2 {
		return len(p.idx.order)
	}
	return p.idx.start[1]
}

// rarestPiece scans the index from position from (or its first available piece if from < 0)
// for the first piece ps has, and returns it with the position at which to resume: removing
// it from the index only moves pieces the scan has not seen into place.
func (p *Picker) rarestPiece(ps *peerState, from int) (int32, int) {
	if from < 0 {
		from = p.firstAvailable()
	}
	order := p.idx.order
	for pos := from; pos < len(order); pos++ {
		if ps.has.Has(int(order[pos])) {
			return order[pos], pos
		}
	}
	return -1, len(order)
}

// randomPiece returns a random piece that ps has and nobody is downloading, or -1.
func (p *Picker) randomPiece(ps *peerState) int32 {
	lo := p.firstAvailable()
	n := len(p.idx.order) - lo
	if n <= 0 {
		return -1
	}
	for range randomTries {
		if x := p.idx.order[lo+p.rng.IntN(n)]; ps.has.Has(int(x)) {
			return x
		}
	}
	s := p.rng.IntN(n)
	for k := range n {
		if x := p.idx.order[lo+(s+k)%n]; ps.has.Has(int(x)) {
			return x
		}
	}
	return -1
}

// pickEndgame adds blocks outstanding to other peers, those with the fewest requesters first,
// never more than maxDup requesters per block.
func (p *Picker) pickEndgame(id PeerID, ps *peerState, out []Block, max int) []Block {
	for n := 1; n < p.maxDup; n++ {
		for _, pt := range p.active {
			if pt.outstanding == 0 || !ps.has.Has(int(pt.piece)) {
				continue
			}
			for j := range pt.blocks {
				b := &pt.blocks[j]
				if b.received || int(b.n) != n || b.requested(id) {
					continue
				}
				out = append(out, p.request(pt, j, id, ps))
				if len(out) >= max {
					return out
				}
			}
		}
	}
	return out
}

// InEndgame reports whether every missing block that some peer has is requested, at least
// one is outstanding, and the download is not done.
func (p *Picker) InEndgame() bool {
	return !p.Done() && p.unreq == 0 && p.inflight > 0
}
