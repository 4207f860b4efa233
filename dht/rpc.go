package dht

import (
	"context"
	"errors"
	"net/netip"
	"time"
)

// errTimeout is returned for a query that got no answer after its retries.
var errTimeout = errors.New("dht: query timed out")

// callKey matches an answer to its query by transaction id and source address, so a third
// party cannot answer for the node we asked.
type callKey struct {
	tid  string
	addr netip.AddrPort
}

type call struct {
	ch chan *Msg // buffered 1: answer never blocks
}

// answer delivers a response or error to the query waiting for it.
func (n *Node) answer(m *Msg, from netip.AddrPort) {
	key := callKey{m.T, from}
	n.mu.Lock()
	c := n.calls[key]
	if c == nil {
		n.stats.Unexpected++
		n.mu.Unlock()
		return
	}
	delete(n.calls, key)
	n.mu.Unlock()
	c.ch <- m
}

// queryNode sends a query to ni, re-sending it on timeout, and records the outcome in the
// routing table. slow, if not nil, is called when the first attempt times out (lookups then
// start another query rather than wait). It returns the answer, the number of packets sent,
// and a *Error for a KRPC error answer, errTimeout, or ctx's error.
func (n *Node) queryNode(ctx context.Context, ni NodeInfo, q string, a *Args, slow func()) (*Msg, int, error) {
	a.ID = string(n.self[:])
	sent := 0
	for attempt := 0; attempt <= n.cfg.Retries; attempt++ {
		if attempt == 1 && slow != nil {
			slow()
		}
		sent++
		m, err := n.roundTrip(ctx, ni.Addr, q, a)
		switch {
		case err == nil && m.Y == "e":
			return nil, sent, m.E
		case err == nil:
			n.replied(ID([]byte(m.R.ID)), ni.Addr, m.RO == 1)
			return m, sent, nil
		case ctx.Err() != nil:
			return nil, sent, ctx.Err()
		}
	}
	n.mu.Lock()
	n.table.Failed(ni.ID, ni.Addr, n.cfg.Now())
	n.mu.Unlock()
	return nil, sent, errTimeout
}

func (n *Node) roundTrip(ctx context.Context, to netip.AddrPort, q string, a *Args) (*Msg, error) {
	n.mu.Lock()
	key := callKey{addr: to}
	for {
		v := n.rng.Uint32()
		key.tid = string([]byte{byte(v), byte(v >> 8)})
		if _, dup := n.calls[key]; !dup {
			break
		}
	}
	c := &call{ch: make(chan *Msg, 1)}
	n.calls[key] = c
	n.stats.QueriesOut++
	n.mu.Unlock()

	n.send(&Msg{T: key.tid, Y: "q", Q: q, A: a}, to)
	timer := time.NewTimer(n.cfg.QueryTimeout)
	defer timer.Stop()
	var err error
	select {
	case m := <-c.ch:
		return m, nil
	case <-timer.C:
		err = errTimeout
	case <-ctx.Done():
		err = ctx.Err()
	}
	n.mu.Lock()
	delete(n.calls, key)
	n.mu.Unlock()
	select {
	case m := <-c.ch: // answered while we gave up
		return m, nil
	default:
		return nil, err
	}
}

// replied inserts a node that answered us into the table; when its bucket is full, the
// table names a questionable node to ping.
func (n *Node) replied(id ID, addr netip.AddrPort, ro bool) {
	if ro {
		return
	}
	n.mu.Lock()
	_, ping := n.table.Insert(NodeInfo{ID: id, Addr: addr}, n.cfg.Now())
	n.mu.Unlock()
	if ping.Addr.IsValid() {
		select {
		case n.pings <- ping:
		default:
		}
	}
}
