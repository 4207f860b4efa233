package picker

import "github.com/swarm-bt/swarm/peer/bitfield"

// Stats is a snapshot of the picker's counters.
type Stats struct {
	Pieces      int  // pieces in the torrent
	Have        int  // verified pieces
	InProgress  int  // pieces with a block requested or received
	Outstanding int  // blocks requested from at least one peer and not received
	Unrequested int  // unrequested blocks of missing pieces that some peer has
	Peers       int  // peers known to the picker
	Endgame     bool // see InEndgame
}

// Stats returns the current counters.
func (p *Picker) Stats() Stats {
	return Stats{
		Pieces: p.cfg.NumPieces, Have: p.numHave, InProgress: len(p.active),
		Outstanding: p.inflight, Unrequested: p.unrequested(), Peers: len(p.peers), Endgame: p.InEndgame(),
	}
}

// Requested is how many blocks are outstanding to peer id (duplicates in endgame included).
func (p *Picker) Requested(id PeerID) int {
	if ps := p.peers[id]; ps != nil {
		return ps.requested
	}
	return 0
}

// Availability is how many known peers have piece i.
func (p *Picker) Availability(i int) int {
	if i < 0 || i >= p.cfg.NumPieces {
		return 0
	}
	return int(p.avail[i]) + p.seeds
}

// HavePieces returns a copy of the verified pieces, for the bitfield message.
func (p *Picker) HavePieces() bitfield.Bitfield { return p.have.Clone() }

// Have reports whether piece i is verified.
func (p *Picker) Have(i int) bool { return p.have.Has(i) }
