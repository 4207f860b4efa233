package peer

import (
	"github.com/swarm-bt/swarm/choke"
)

// chokeWindow is the window, in seconds, of the rates given to the choker.
const chokeWindow = 20

// chokeState is the loop's choker bookkeeping.
type chokeState struct {
	state choke.State
	// dirty: a peer came, went or changed interest; the choker should fill or free slots now
	// rather than at the next tick.
	dirty bool
	log   chokeLog // the last decisions, for ChokeLog
}

// chokeRound asks the choker who gets an upload slot and applies the answer, sending choke
// and unchoke only to peers whose state changes. It runs every tick and after peers change;
// choke.Decide itself runs a full re-ranking round only every Choke.Interval (10 s) and in
// between only fills free slots (choke/doc.go).
func (s *Swarm) chokeRound() {
	s.chk.dirty = false
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
	s.recordChoke(d, snap)
	unchoke := make(map[int]bool, len(d.Unchoke))
	for _, id := range d.Unchoke {
		unchoke[int(id)] = true
	}
	for _, p := range s.peers.byID {
		s.setChoking(p, !unchoke[p.id])
	}
	if d.Round && len(d.Snubbed) > 0 {
		s.log.Debug("choke round", "unchoked", len(d.Unchoke), "snubbed", len(d.Snubbed))
	}
}
