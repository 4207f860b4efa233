package peer

import (
	"slices"
	"time"

	"github.com/swarm-bt/swarm/peer/wire"
)

// This file is the seeder's side of spreading pieces (issue 11): a seed suggests (BEP 6
// suggest_piece) to each leecher it unchokes pieces it has given no other leecher, a few
// ahead of what the leecher asks. Leechers that follow suggestions (ours do, first among new
// pieces: picker.Suggest; whether other clients do is theirs to decide) then fetch distinct
// pieces from the seed and trade them among themselves, instead of several of them fetching
// the same piece from the seed at once, which rarest first alone cannot prevent: a piece in
// flight from the seed to one leecher looks as rare as ever to the others. Nothing is refused: a request for any
// piece is served as before, so a leecher that ignores suggestions loses nothing.

// suggestTTL is how long a suggestion holds its piece for the leecher it went to. One not
// taken up by then (the leecher ignores suggestions, or got busy elsewhere) is given back and
// may go to another leecher.
const suggestTTL = 10 * time.Second

// suggestBytes is how much the suggestions kept ahead of a leecher cover: a little more than
// our own request pipeline at full speed (maxPipeline blocks), so that a leecher like us
// always finds one among the pieces it starts.
const suggestBytes = 5 << 20

// suggester is the seeder's record of which leecher each piece went to.
type suggester struct {
	owner []int32 // per piece: 1 + the id of the leecher it was suggested or first sent to; 0 none
	order []int32 // every piece in random order: the order of first suggestions
	next  int     // order[next:] has never been given
	freed []int32 // pieces given back (suggestion expired, leecher left), given again first
}

// sugEntry is one suggestion outstanding to a peer.
type sugEntry struct {
	piece uint32
	at    time.Time
}

// suggestAhead is how many suggestions to keep outstanding to one leecher.
func (s *Swarm) suggestAhead() int {
	n := int(suggestBytes / max(s.cfg.Info.PieceLength, 1))
	return min(max(n, 4), 32)
}

// suggestTo tops up p's suggestions, if we seed and p is a leecher we unchoke that speaks
// the Fast extension.
func (s *Swarm) suggestTo(p *peer) {
	if !s.seeding || !p.fast || p.closed || p.amChoking || !p.peerInterested || p.has.Full() {
		return
	}
	g := &s.sug
	if g.owner == nil {
		n := s.cfg.Info.NumPieces()
		g.owner = make([]int32, n)
		g.order = make([]int32, n)
		for i := range g.order {
			g.order[i] = int32(i)
		}
		s.rng.Shuffle(n, func(i, j int) { g.order[i], g.order[j] = g.order[j], g.order[i] })
	}
	for want := s.suggestAhead(); len(p.sug) < want; {
		x, ok := s.nextSuggestion(p)
		if !ok {
			return
		}
		g.owner[x] = int32(p.id) + 1
		p.owns = true
		p.sug = append(p.sug, sugEntry{piece: uint32(x), at: s.now})
		s.sendTo(p, outMsg{kind: outControl, id: wire.Suggest, index: uint32(x)})
	}
}

// nextSuggestion is a piece no leecher was given and p lacks. A piece p already has went
// around without us: it is marked p's, and not suggested to anyone.
func (s *Swarm) nextSuggestion(p *peer) (int32, bool) {
	g := &s.sug
	for len(g.freed) > 0 {
		x := g.freed[len(g.freed)-1]
		g.freed = g.freed[:len(g.freed)-1]
		if s.suggestable(p, x) {
			return x, true
		}
	}
	for g.next < len(g.order) {
		x := g.order[g.next]
		g.next++
		if s.suggestable(p, x) {
			return x, true
		}
	}
	return 0, false
}

// suggestable reports whether piece x is given to nobody and p lacks it; a piece p has is
// marked p's.
func (s *Swarm) suggestable(p *peer, x int32) bool {
	if s.sug.owner[x] != 0 {
		return false
	}
	if p.has.Has(int(x)) {
		s.sug.owner[x] = int32(p.id) + 1
		return false
	}
	return true
}

// suggestServed notes that p asked for a block of piece i: a suggestion taken up, or a piece
// that now went to p first; then tops up p's suggestions.
func (s *Swarm) suggestServed(p *peer, i uint32) {
	if s.sug.owner == nil || !p.fast {
		return
	}
	switch s.sug.owner[i] {
	case 0:
		s.sug.owner[i] = int32(p.id) + 1
		p.owns = true
	case int32(p.id) + 1: // p's suggestions are all pieces p owns: only then look among them
		if k := slices.IndexFunc(p.sug, func(e sugEntry) bool { return e.piece == i }); k >= 0 {
			p.sug = slices.Delete(p.sug, k, k+1)
		}
	}
	s.suggestTo(p)
}

// expireSuggestions gives back p's suggestions older than suggestTTL, or all of them when p
// is gone (or choked: it cannot take them up).
func (s *Swarm) expireSuggestions(p *peer, all bool) {
	if len(p.sug) == 0 {
		return
	}
	k := 0
	for _, e := range p.sug {
		if !all && s.now.Sub(e.at) < suggestTTL && !p.has.Has(int(e.piece)) {
			p.sug[k] = e
			k++
			continue
		}
		if s.sug.owner[e.piece] == int32(p.id)+1 && !p.has.Has(int(e.piece)) {
			s.sug.owner[e.piece] = 0
			s.sug.freed = append(s.sug.freed, int32(e.piece))
		}
	}
	p.sug = p.sug[:k]
}

// resetSuggestions forgets who was given what: we no longer seed (a recheck found damage).
func (s *Swarm) resetSuggestions() {
	s.sug = suggester{}
	for _, p := range s.peers.byID {
		p.sug = nil
	}
}

// unownPieces gives back the pieces p was given and never completed, once p is gone: the
// leechers that waited to get them from p can no longer.
func (s *Swarm) unownPieces(p *peer) {
	if !p.owns {
		return // a walk over every piece is for peers that were given some, not every peer
	}
	for x, o := range s.sug.owner {
		if o == int32(p.id)+1 && !p.has.Has(x) {
			s.sug.owner[x] = 0
			s.sug.freed = append(s.sug.freed, int32(x))
		}
	}
}
