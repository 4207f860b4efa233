// Package pex is the pure state of peer exchange (BEP 11) on one connection: what to tell the
// peer (Sender) and what to accept from it (Receiver). The engine owns one of each per
// connection that negotiated ut_pex, and passes the time in.
//
// Rules: a message at most once a minute, with at most 50 added and 50 dropped peers (BEP 11),
// never the peer itself; received peers are capped per message and per connection, never our
// own address nor port 0, and a peer that sends too often or too much is a flooder.
package pex

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/swarm-bt/swarm/peer/wire"
)

// Limits of BEP 11 and of what we accept.
const (
	Interval   = time.Minute // between two messages to one peer
	MaxAdded   = 50          // added peers per message we send
	MaxDropped = 50          // dropped peers per message we send
	// MaxAddedIn is the most added peers one message may carry before it is a flood:
	// libtorrent sends up to 100.
	MaxAddedIn = 200
	// MaxPerConn is the most peers taken from one connection over its life.
	MaxPerConn = 500
	// MaxInPerInterval is how many messages a peer may send per Interval: one a minute, plus
	// slack for a first message crossing a later one (libtorrent allows 6).
	MaxInPerInterval = 4
)

// ErrFlood: the peer sends PEX too often or too much; the engine drops it.
var ErrFlood = errors.New("pex: flood")

// Sender decides what to tell one peer.
type Sender struct {
	sent map[netip.AddrPort]byte // what the peer knows from us, with the flags we sent
	last time.Time
	any  bool
}

// Next returns the message due at now, given our connected peers (address -> flags) and the
// recipient's address (never sent to itself). ok is false when a message is not due yet or
// there is no change to tell. Peers beyond the per-message caps go in later messages.
func (s *Sender) Next(now time.Time, current map[netip.AddrPort]byte, to netip.AddrPort) (msg wire.PEX, ok bool) {
	if s.any && now.Sub(s.last) < Interval {
		return msg, false
	}
	if s.sent == nil {
		s.sent = map[netip.AddrPort]byte{}
	}
	for _, a := range sortedKeys(current) {
		f := current[a]
		if a == to || !a.IsValid() || a.Port() == 0 {
			continue
		}
		if old, known := s.sent[a]; known && old == f {
			continue
		}
		if len(msg.Added) < MaxAdded {
			msg.Added = append(msg.Added, wire.PEXPeer{Addr: a, Flags: f})
			s.sent[a] = f
		}
	}
	for _, a := range sortedKeys(s.sent) {
		if _, still := current[a]; !still && len(msg.Dropped) < MaxDropped {
			msg.Dropped = append(msg.Dropped, a)
			delete(s.sent, a)
		}
	}
	if len(msg.Added)+len(msg.Dropped) == 0 {
		return msg, false
	}
	s.last, s.any = now, true
	return msg, true
}

func sortedKeys(m map[netip.AddrPort]byte) []netip.AddrPort {
	keys := make([]netip.AddrPort, 0, len(m))
	for a := range m {
		keys = append(keys, a)
	}
	slices.SortFunc(keys, func(a, b netip.AddrPort) int { return cmp.Compare(a.String(), b.String()) })
	return keys
}

// Receiver checks what one peer tells us.
type Receiver struct {
	times []time.Time // of recent messages, within Interval
	taken int
}

// Receive takes a message at now and returns the added peers worth dialling: not our own
// address (isSelf), not port 0, within the per-connection cap. It returns ErrFlood (wrapped)
// for a peer sending more than MaxInPerInterval messages per Interval or more than
// MaxAddedIn added peers in one.
func (r *Receiver) Receive(now time.Time, msg wire.PEX, isSelf func(netip.AddrPort) bool) ([]wire.PEXPeer, error) {
	r.times = slices.DeleteFunc(r.times, func(t time.Time) bool { return now.Sub(t) >= Interval })
	r.times = append(r.times, now)
	if len(r.times) > MaxInPerInterval {
		return nil, fmt.Errorf("%w: %d messages within %v", ErrFlood, len(r.times), Interval)
	}
	if len(msg.Added) > MaxAddedIn {
		return nil, fmt.Errorf("%w: %d added peers in one message, limit %d", ErrFlood, len(msg.Added), MaxAddedIn)
	}
	var out []wire.PEXPeer
	for _, p := range msg.Added {
		if r.taken >= MaxPerConn {
			break
		}
		a := netip.AddrPortFrom(p.Addr.Addr().Unmap(), p.Addr.Port())
		if !a.IsValid() || a.Port() == 0 || a.Addr().IsUnspecified() || (isSelf != nil && isSelf(a)) {
			continue
		}
		r.taken++
		out = append(out, wire.PEXPeer{Addr: a, Flags: p.Flags})
	}
	return out, nil
}
