package peer

import (
	"time"

	"github.com/swarm-bt/swarm/choke"
)

// chokeWindow is the window, in seconds, of the rates given to the choker.
const chokeWindow = 20

// chokeState is the loop's choker bookkeeping.
type chokeState struct {
	state choke.State
	next  time.Time // next regular round
}

// chokeRound asks the choker who gets an upload slot and applies the answer, sending choke
// and unchoke only to peers whose state changes.
func (s *Swarm) chokeRound() {
	snap := make([]choke.Peer, 0, len(s.peers.byID))
	for _, p := range s.peers.byID {
		snap = append(snap, choke.Peer{
			ID:          choke.PeerID(p.id),
			Interested:  p.peerInterested,
			Choked:      p.amChoking,
			DownRate:    p.down.rate(chokeWindow),
			UpRate:      p.up.rate(chokeWindow),
			ConnectedAt: p.connectedAt,
			LastBlockAt: p.lastBlockAt,
		})
	}
	d, st := choke.Decide(s.cfg.Choke, snap, s.chk.state, s.now, s.seeding, s.rng)
	s.chk.state = st
	unchoke := make(map[int]bool, len(d.Unchoke))
	for _, id := range d.Unchoke {
		unchoke[int(id)] = true
	}
	for _, p := range s.peers.byID {
		s.setChoking(p, !unchoke[p.id])
	}
}

// freeSlots is how many more interested peers may be unchoked now without a round: the
// regular slots plus the optimistic one.
func (s *Swarm) freeSlots() int {
	n := s.cfg.Choke.Slots + 1
	for _, p := range s.peers.byID {
		if !p.amChoking && p.peerInterested {
			n--
		}
	}
	return n
}
