package peer

import (
	"errors"
	"fmt"
	"io"
	"net"
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

// PeerSource is where the swarm learnt of a peer.
type PeerSource string

// Peer sources.
const (
	SourceTracker  PeerSource = "tracker"  // the Announcer's reply
	SourceIncoming PeerSource = "incoming" // it connected to us
	SourceManual   PeerSource = "manual"   // AddPeers (the command line, the API)
	SourcePEX      PeerSource = "pex"      // peer exchange (BEP 11)
	SourceDHT      PeerSource = "dht"      // the DHT (BEP 5)
)

// LedgerEntry is one peer the swarm knows of, connected or not.
type LedgerEntry struct {
	Addr   netip.AddrPort
	Source PeerSource
	// State is "connected", "connecting", "backing off" (a dial failed or it went away: the
	// swarm waits before dialing again), "failed" (backing off after failedAfter failed
	// dials in a row), "idle" (known, not connected now) or "banned".
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
		e := &LedgerEntry{Addr: ps.Addr, State: "connected", Connected: &ps, Source: SourceIncoming}
		if ai := s.peers.known[ps.Addr]; ai != nil && ps.Outgoing {
			e.Source = ai.source
		}
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
		e := &LedgerEntry{Addr: addr, Source: ai.source, Fails: ai.fails, NextDial: ai.next, Reason: ai.reason}
		e.State, e.Reason = s.idleState(ai)
		byAddr[addr] = e
	}
	out := make([]LedgerEntry, 0, len(byAddr))
	for _, e := range byAddr {
		out = append(out, *e)
	}
	slices.SortFunc(out, func(a, b LedgerEntry) int { return a.Addr.Compare(b.Addr) })
	return out
}

// failedAfter is how many failed dials in a row make the ledger call a peer failed rather
// than backing off (it is still retried, ever more slowly).
const failedAfter = 3

// idleState says where a known address that is not connected stands, and why.
func (s *Swarm) idleState(ai *addrInfo) (state, reason string) {
	switch {
	case ai.state == addrDialing:
		return "connecting", ""
	case ai.state == addrBanned:
		return "banned", orStr(ai.reason, "banned")
	case ai.state == addrConnected: // an incoming connection from it is being set up
		return "connecting", ""
	case s.seeding && ai.seed:
		return "idle", "not connected: both sides are seeds"
	case s.now.Before(ai.next) && ai.fails >= failedAfter:
		return "failed", fmt.Sprintf("%s (%d times in a row); next try in %s", orStr(ai.reason, "dial failed"), ai.fails, ai.next.Sub(s.now).Round(time.Second))
	case s.now.Before(ai.next):
		return "backing off", fmt.Sprintf("%s; next try in %s", orStr(ai.reason, "waiting"), ai.next.Sub(s.now).Round(time.Second))
	case len(s.peers.byID)+s.peers.dialing >= s.cfg.MaxPeers:
		return "idle", fmt.Sprintf("not connected: the torrent's peer cap (%d)", s.cfg.MaxPeers)
	case s.sess != nil && s.sess.conns.full():
		return "idle", "not connected: global connection cap"
	case s.peers.dialing >= maxHalfOpen || s.sess != nil && s.sess.halfOpen.full():
		return "idle", "not connected yet: dial budget in use"
	}
	return "idle", ai.reason
}

func orStr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// dropReason says why a connection ended, for the ledger.
func dropReason(err error) string {
	switch {
	case err == nil, errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		return "disconnected"
	}
	return "disconnected: " + err.Error()
}
