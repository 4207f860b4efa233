package peer

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/swarm-bt/swarm/choke"
)

// chokeLogLen is how many choker decisions a swarm remembers.
const chokeLogLen = 30

// ChokeRound is one decision of the choker that changed the slots (or a full round), with the
// reason for each interested peer's place.
type ChokeRound struct {
	At time.Time
	// Full: a regular round re-ranked every slot; otherwise free slots were filled between
	// rounds.
	Full    bool
	Seeding bool
	Slots   []ChokeSlot // unchoked peers first (regular by rank, then optimistic), then the rest
}

// ChokeSlot is one peer's place in a ChokeRound.
type ChokeSlot struct {
	Addr netip.AddrPort
	// Kind is "regular", "optimistic", "snubbed" (only eligible for the optimistic slot) or
	// "choked" (interested, not chosen).
	Kind             string
	Reason           string
	DownRate, UpRate float64 // over the choker's window, bytes per second
}

// chokeLog keeps the last decisions; owned by the loop.
type chokeLog struct {
	rounds []ChokeRound
	last   []choke.PeerID // the unchoked set of the last recorded decision
}

// ChokeLog returns the choker's last decisions, oldest first.
func (s *Swarm) ChokeLog() []ChokeRound {
	reply := make(chan []ChokeRound, 1)
	if !s.do(func() { reply <- slices.Clone(s.chk.log.rounds) }) {
		<-s.exited
		return slices.Clone(s.chk.log.rounds)
	}
	return <-reply
}

// recordChoke remembers decision d when it was a full round or changed the unchoked set.
func (s *Swarm) recordChoke(d choke.Decision, snap []choke.Peer) {
	l := &s.chk.log
	set := slices.Sorted(slices.Values(d.Unchoke))
	if !d.Round && slices.Equal(set, l.last) {
		return
	}
	l.last = set
	byID := make(map[choke.PeerID]choke.Peer, len(snap))
	for _, p := range snap {
		byID[p.ID] = p
	}
	r := ChokeRound{At: s.now, Full: d.Round, Seeding: s.seeding}
	placed := map[choke.PeerID]bool{}
	rank := 0
	for _, id := range d.Unchoke {
		placed[id] = true
		if d.HasOptimistic && id == d.Optimistic {
			r.Slots = append(r.Slots, s.chokeSlot(byID[id], "optimistic", "optimistic unchoke: a random interested peer, rotated every 30 s"))
			continue
		}
		rank++
		r.Slots = append(r.Slots, s.chokeSlot(byID[id], "regular", s.regularReason(rank, byID[id])))
	}
	for _, id := range d.Snubbed {
		if !placed[id] {
			placed[id] = true
			r.Slots = append(r.Slots, s.chokeSlot(byID[id], "snubbed", "snubbed: no block received for a minute; only the optimistic slot is open to it"))
		}
	}
	for _, p := range snap {
		if p.Interested && !placed[p.ID] {
			r.Slots = append(r.Slots, s.chokeSlot(p, "choked", "interested but ranked below the regular slots"))
		}
	}
	if len(r.Slots) == 0 && !d.Round {
		return
	}
	if len(r.Slots) == 0 && len(l.rounds) > 0 && len(l.rounds[len(l.rounds)-1].Slots) == 0 {
		return // an idle swarm: one empty round says it all
	}
	l.rounds = append(l.rounds, r)
	if len(l.rounds) > chokeLogLen {
		l.rounds = slices.Delete(l.rounds, 0, len(l.rounds)-chokeLogLen)
	}
}

func (s *Swarm) regularReason(rank int, p choke.Peer) string {
	switch {
	case !s.seeding:
		return fmt.Sprintf("regular #%d by download rate from it (%.0f B/s)", rank, p.DownRate)
	case s.cfg.Choke.SeedPolicy == choke.SeedFastestUpload:
		return fmt.Sprintf("regular #%d by upload rate to it (%.0f B/s)", rank, p.UpRate)
	}
	return fmt.Sprintf("regular #%d: seeding round robin, every interested peer served in turn", rank)
}

func (s *Swarm) chokeSlot(p choke.Peer, kind, reason string) ChokeSlot {
	cs := ChokeSlot{Kind: kind, Reason: reason, DownRate: p.DownRate, UpRate: p.UpRate}
	if pr := s.peers.byID[int(p.ID)]; pr != nil {
		cs.Addr = pr.addr
	}
	return cs
}
