package peer

import "errors"

// errEvicted is the drop reason of an idle peer whose slot a new peer took.
var errEvicted = errors.New("evicted: neither interested nor interesting, and a new peer needed the slot")

// evictIdle makes room for a new peer by dropping the connected peer that has been idle the
// longest: one that is not interested in us and that we are not interested in (it neither
// wants our pieces nor has any we want). Peers that only handshake and send keep-alives are
// such peers, so they cannot hold every slot against honest newcomers (issue 19). It
// reports whether a peer went.
func (s *Swarm) evictIdle() bool {
	var victim *peer
	for _, p := range s.peers.byID {
		if p.closed || p.peerInterested || p.amInterested {
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
	s.dropPeer(victim, errEvicted)
	return true
}
