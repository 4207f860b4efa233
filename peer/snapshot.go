package peer

import (
	"net/netip"
	"slices"
	"time"

	"github.com/swarm-bt/swarm/peer/bitfield"
)

// PieceSnapshot is the state of a torrent's pieces, for a live piece map.
type PieceSnapshot struct {
	Have bitfield.Bitfield // verified pieces (a copy)
	// InFlight lists, ascending, the pieces being downloaded: requested from a peer, or
	// received and being written or verified.
	InFlight []int
	// Availability counts, per piece, the connected peers that have it.
	Availability []int
}

// LedgerEntry is one peer the swarm knows of, connected or not.
type LedgerEntry struct {
	Addr netip.AddrPort
	// State is "connected", "connecting", "backing off" (a dial failed or it went away: the
	// swarm waits before dialing again), "idle" (known, not dialed yet) or "banned".
	State string
	// Reason says why the peer is in that state, when there is more to say.
	Reason string
	// Fails counts failed dials in a row; NextDial is when the next dial may happen.
	Fails    int
	NextDial time.Time
	// Connected holds the connection's stats when State is "connected".
	Connected *PeerStats
	// Progress is the fraction of pieces the peer has (connected peers only).
	Progress float64
}

// Pieces returns the piece snapshot: from the loop while Run runs (it waits for the loop when
// Run has not started yet), or the final state once the swarm has stopped.
func (s *Swarm) Pieces() PieceSnapshot {
	reply := make(chan PieceSnapshot, 1)
	if !s.do(func() { reply <- s.pieceSnapshot() }) {
		<-s.exited // then nothing else touches the state
		return s.pieceSnapshot()
	}
	return <-reply
}

func (s *Swarm) pieceSnapshot() PieceSnapshot {
	n := s.dl.have.Len()
	ps := PieceSnapshot{Have: s.dl.have.Clone(), Availability: make([]int, n)}
	inFlight := map[int]bool{}
	for i := range s.dl.writing {
		inFlight[i] = true
	}
	for i := range s.dl.complete {
		inFlight[i] = true
	}
	for _, p := range s.peers.byID {
		for b := range p.requests {
			inFlight[b.Piece] = true
		}
		for i := range n {
			if p.has.Has(i) {
				ps.Availability[i]++
			}
		}
	}
	for i := range inFlight {
		if !ps.Have.Has(i) {
			ps.InFlight = append(ps.InFlight, i)
		}
	}
	slices.Sort(ps.InFlight)
	return ps
}

// Ledger returns every peer the swarm knows, connected or not, sorted by address; after Run
// has returned it gives the final state.
func (s *Swarm) Ledger() []LedgerEntry {
	reply := make(chan []LedgerEntry, 1)
	if !s.do(func() { reply <- s.ledger() }) {
		<-s.exited
		return s.ledger()
	}
	return <-reply
}

func (s *Swarm) ledger() []LedgerEntry {
	st := s.stats()
	byAddr := map[netip.AddrPort]*LedgerEntry{}
	for i := range st.Peers {
		ps := st.Peers[i]
		e := &LedgerEntry{Addr: ps.Addr, State: "connected", Connected: &ps}
		byAddr[ps.Addr] = e
	}
	for _, p := range s.peers.byID {
		if e := byAddr[p.addr]; e != nil && p.has.Len() > 0 {
			e.Progress = float64(p.has.Count()) / float64(p.has.Len())
		}
	}
	for addr, ai := range s.peers.known {
		if byAddr[addr] != nil {
			continue
		}
		e := &LedgerEntry{Addr: addr, Fails: ai.fails, NextDial: ai.next}
		switch ai.state {
		case addrDialing:
			e.State = "connecting"
		case addrBanned:
			e.State, e.Reason = "banned", "banned"
		case addrConnected:
			e.State = "connected"
		default:
			e.State = "idle"
			if ai.fails > 0 || s.now.Before(ai.next) {
				e.State = "backing off"
			}
			if s.seeding && ai.seed {
				e.State, e.Reason = "idle", "not dialed: both sides are seeds"
			}
		}
		byAddr[addr] = e
	}
	out := make([]LedgerEntry, 0, len(byAddr))
	for _, e := range byAddr {
		out = append(out, *e)
	}
	slices.SortFunc(out, func(a, b LedgerEntry) int { return a.Addr.Compare(b.Addr) })
	return out
}
