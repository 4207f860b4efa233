package peer

import (
	"errors"
	"net/netip"
	"time"
)

const (
	// evictedPenalty is how long an address whose peer was evicted as idle is refused: an
	// attacker that reconnects at once would otherwise churn the slots, evicting peers
	// faster than honest newcomers can show interest.
	evictedPenalty = time.Minute
	// maxEvicted bounds the addresses remembered for evictedPenalty.
	maxEvicted = 10000
	// evictGrace is how long a new peer is safe from eviction: time to receive our bitfield
	// and say whether it is interested. Without it, peers arriving together evict each other
	// before anyone could show interest.
	evictGrace = 500 * time.Millisecond
)

// errEvicted is the drop reason of an idle peer whose slot a new peer took.
var errEvicted = errors.New("evicted: neither interested nor interesting, and a new peer needed the slot")

// evictIdle makes room for a new peer by dropping the connected peer that has been idle the
// longest: one that is not interested in us and that we are not interested in (it neither
// wants our pieces nor has any we want), connected for at least evictGrace. Peers that only handshake and send keep-alives are
// such peers, so they cannot hold every slot against honest newcomers (issue 19). It
// reports whether a peer went.
func (s *Swarm) evictIdle() bool {
	var victim *peer
	for _, p := range s.peers.byID {
		if p.closed || p.peerInterested || p.amInterested || s.now.Sub(p.connectedAt) < evictGrace {
			continue
		}
		if victim == nil || p.connectedAt.Before(victim.connectedAt) ||
			p.connectedAt.Equal(victim.connectedAt) && p.id < victim.id {
			victim = p
		}
	}
	if victim == nil {
		return false
	}
	s.penalize(victim.addr.Addr().Unmap())
	s.dropPeer(victim, errEvicted)
	return true
}

// penalize refuses ip for evictedPenalty.
func (s *Swarm) penalize(ip netip.Addr) {
	ev := s.peers.evicted
	if len(ev) >= maxEvicted {
		for a, until := range ev {
			if !s.now.Before(until) {
				delete(ev, a)
			}
		}
		if len(ev) >= maxEvicted {
			return
		}
	}
	ev[ip] = s.now.Add(evictedPenalty)
}

// recentlyEvicted reports whether a peer of ip was evicted as idle within evictedPenalty.
func (s *Swarm) recentlyEvicted(ip netip.Addr) bool {
	until, ok := s.peers.evicted[ip.Unmap()]
	return ok && s.now.Before(until)
}
