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
	out := p.PickAppend(nil, id, max)
	if len(out) == 0 {
		return nil
	}
	return out
}

// PickAppend is Pick appending to dst[:0]: a caller that picks often reuses one slice.
func (p *Picker) PickAppend(dst []Block, id PeerID, max int) []Block {
	out := dst[:0]
	ps := p.peers[id]
	if ps == nil || max <= 0 || ps.interesting == 0 {
		return out
	}
	out = p.pickPartials(id, ps, out, max, ownPieces)
	out = p.pickPartials(id, ps, out, max, orphanPieces)
	out = p.pickNew(id, ps, out, max)
	out = p.pickPartials(id, ps, out, max, anyPieces)
	if len(out) < max && p.InEndgame() {
		out = p.pickEndgame(id, ps, out, max)
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

// SpareSeeds sets whether seeds are asked only for pieces that no other peer has. The engine
// turns it on while some other peer that has pieces we need unchokes us: what others have we
// take from them, and the seed's upload goes to the pieces nobody else can give, so the
// leechers of a swarm trade among themselves instead of each taking every piece from the
// seed. Pieces in progress, endgame and the pieces only seeds have are asked of seeds as before.
func (p *Picker) SpareSeeds(on bool) { p.spareSeeds = on }

// IsSeed reports whether peer id has every piece.
func (p *Picker) IsSeed(id PeerID) bool {
	ps := p.peers[id]
	return ps != nil && ps.seed
}

// maxSuggested caps the suggestions kept per peer: a peer cannot grow our memory by
// suggesting, and a seeder that hands out pieces keeps far fewer than this ahead of us.
const maxSuggested = 64

// Suggest records that peer id suggests piece i (BEP 6 suggest_piece). New pieces are started
// from its suggestions first, in the order given, while they are still new, it has them and,
// when seeds are spared, no other peer has them: a seeder that suggests to each leecher
// pieces it has given nobody else keeps the leechers from fetching the same piece from it at
// once, and they trade the pieces among themselves (see peer/swarm_suggest.go). Suggestions
// beyond maxSuggested, out of range or repeated are ignored.
func (p *Picker) Suggest(id PeerID, i int) {
	ps := p.peers[id]
	if ps == nil || i < 0 || i >= p.cfg.NumPieces || len(ps.suggested) >= maxSuggested ||
		slices.Contains(ps.suggested, int32(i)) {
		return
	}
	ps.suggested = append(ps.suggested, int32(i))
	ps.suggests = true
}

// pickSuggested starts the pieces id suggested, oldest first, dropping each suggestion it
// uses or that no longer applies.
func (p *Picker) pickSuggested(id PeerID, ps *peerState, out []Block, max int) []Block {
	spare := ps.seed && p.spareSeeds
	k := 0
	for ; k < len(ps.suggested) && len(out) < max; k++ {
		x := ps.suggested[k]
		if !p.idx.has(x) || !ps.has.Has(int(x)) || (spare && p.avail[x] > 0) {
			continue
		}
		out = p.take(p.start(x), id, ps, out, max)
	}
	ps.suggested = ps.suggested[:copy(ps.suggested, ps.suggested[k:])]
	return out
}

// pickNew starts new pieces that id has until out holds max: its suggestions first.
func (p *Picker) pickNew(id PeerID, ps *peerState, out []Block, max int) []Block {
	if len(ps.suggested) > 0 {
		if out = p.pickSuggested(id, ps, out, max); len(out) >= max {
			return out
		}
	}
	if ps.seed && p.spareSeeds {
		if ps.suggests {
			// A seed that hands out pieces gave the others to other leechers: we take them
			// from those, and from it only what it suggests (or, once nobody else has what
			// we need, anything: SpareSeeds is off then).
			return out
		}
		return p.pickSeedOnly(id, ps, out, max)
	}
	from, walk := -1, p.sparse(ps)
	for len(out) < max && ps.cand > 0 {
		var x int32
		switch {
		case p.numHave < p.random && walk:
			x = p.sample(ps, false)
		case p.numHave < p.random:
			x = p.randomPiece(ps)
		case walk:
			x = p.sample(ps, true)
		default:
			x, from = p.rarestPiece(ps, from)
			if x == scanGaveUp {
				walk = true
				x = p.sample(ps, true)
			}
		}
		if x < 0 {
			break
		}
		out = p.take(p.start(x), id, ps, out, max)
	}
	return out
}

// pickSeedOnly starts new pieces from the first availability bucket only: those no peer
// but the seeds has. The bucket is in random order, so its first piece is a uniform choice
// among them, as rarest first with random ties would make.
func (p *Picker) pickSeedOnly(id PeerID, ps *peerState, out []Block, max int) []Block {
	for len(out) < max {
		n := len(p.idx.order)
		if p.idx.buckets() >= 2 {
			n = p.idx.start[1]
		}
		if n == 0 {
			break
		}
		x := p.idx.order[0]
		if p.numHave < p.random {
			x = p.idx.order[p.rng.IntN(n)]
		}
		out = p.take(p.start(x), id, ps, out, max)
	}
	return out
}

// sparseFactor: a peer is sparse when the expected index scan to reach one of its candidates
// (len(index)/cand positions) costs more than walking its whole bitfield (NumPieces/8 bytes,
// cheaper per piece than a random bit lookup), about len(index)/cand > NumPieces/32.
const sparseFactor = 32

// sparse reports whether ps has so few candidates that walking its bitfield beats scanning
// the index: this bounds Pick for a peer whose only pieces we lack are rare or in progress.
func (p *Picker) sparse(ps *peerState) bool {
	return int64(ps.cand)*int64(p.cfg.NumPieces) < int64(len(p.idx.order))*sparseFactor
}

// sample walks ps's bitfield and returns a uniformly random candidate: among the rarest ones
// if rarest, else among all (reservoir sampling).
func (p *Picker) sample(ps *peerState, rarest bool) int32 {
	pick, best, ties := int32(-1), int32(0), 0
	eachSet(ps.has, func(i int) {
		x := int32(i)
		if !p.idx.has(x) {
			return
		}
		a := p.avail[x]
		if !rarest {
			a = 0
		}
		switch {
		case pick < 0 || a < best:
			pick, best, ties = x, a, 1
		case a == best:
			if ties++; p.rng.IntN(ties) == 0 {
				pick = x
			}
		}
	})
	return pick
}

// firstAvailable is the index position of the first piece that ps may have: the pieces no
// non-seed has come first, and only a seed has them.
func (p *Picker) firstAvailable(ps *peerState) int {
	if ps.seed {
		return 0
	}
	if p.idx.buckets() < 2 {
		return len(p.idx.order)
	}
	return p.idx.start[1]
}

// scanGaveUp is returned by rarestPiece when the index scan has cost as much as a walk of the
// peer's bitfield would (typically: many rare pieces that only other peers have).
const scanGaveUp = -2

// rarestPiece scans the index from position from (or its first available piece if from < 0)
// for the first piece ps has, and returns it with the position at which to resume: removing
// it from the index only moves pieces the scan has not seen into place. It gives up after
// NumPieces/sparseFactor positions (at least 64).
func (p *Picker) rarestPiece(ps *peerState, from int) (int32, int) {
	if from < 0 {
		from = p.firstAvailable(ps)
	}
	order := p.idx.order
	end := min(len(order), from+max(64, p.cfg.NumPieces/sparseFactor))
	for pos := from; pos < end; pos++ {
		if ps.has.Has(int(order[pos])) {
			return order[pos], pos
		}
	}
	if end < len(order) {
		return scanGaveUp, end
	}
	return -1, end
}

// randomPiece returns a random piece that ps has and nobody is downloading, or -1.
func (p *Picker) randomPiece(ps *peerState) int32 {
	lo := p.firstAvailable(ps)
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
			if !p.canDuplicate(pt, ps) {
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

// canDuplicate is a quick filter for pieces where ps may take endgame duplicates: some block
// is outstanding without ps and has a free requester slot.
func (p *Picker) canDuplicate(pt *partial, ps *peerState) bool {
	return pt.outstanding > 0 && pt.reqs < pt.outstanding*p.maxDup &&
		int(ps.pending[pt.piece]) < pt.outstanding && ps.has.Has(int(pt.piece))
}

// InEndgame reports whether every missing block that some peer has is requested, at least
// one is outstanding, and the download is not done.
func (p *Picker) InEndgame() bool {
	return !p.Done() && p.unrequested() == 0 && p.inflight > 0
}
