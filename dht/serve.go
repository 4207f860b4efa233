package dht

import (
	"net/netip"
	"slices"
	"time"
)

// maxValues bounds the peers in one get_peers answer, so it fits in one packet.
const maxValues = 50

// serve answers a query; nil means no answer (rate limited, or we are read-only).
func (n *Node) serve(m *Msg, from netip.AddrPort) *Msg {
	if n.cfg.ReadOnly {
		return nil // BEP 43: read-only nodes do not answer
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	now := n.cfg.Now()
	if !n.lims.allow(from, now) {
		n.stats.Limited++
		return nil
	}
	n.stats.QueriesIn++
	n.learnFromQuery(ID([]byte(m.A.ID)), m.RO == 1, from, now)
	r := &Return{ID: string(n.self[:])}
	switch m.Q {
	case "ping":
	case "find_node":
		if len(m.A.Target) != IDSize {
			return errorMsg(m.T, ErrCodeProtocol, "target is not 20 bytes")
		}
		n.addNodes(r, ID([]byte(m.A.Target)), from, m.A.Want, now)
	case "get_peers":
		if len(m.A.InfoHash) != IDSize {
			return errorMsg(m.T, ErrCodeProtocol, "info_hash is not 20 bytes")
		}
		ih := ID([]byte(m.A.InfoHash))
		r.Token = n.tokens.make(from.Addr(), now, n.rng)
		for _, p := range n.store.get(ih, maxValues, now, n.rng) {
			r.Values = append(r.Values, compactAddr(p))
		}
		n.addNodes(r, ih, from, m.A.Want, now)
	case "announce_peer":
		if e := n.announced(m, from, now); e != nil {
			return e
		}
	default:
		return errorMsg(m.T, ErrCodeMethod, "method unknown")
	}
	return &Msg{T: m.T, Y: "r", R: r, IP: compactAddr(from)}
}

func (n *Node) announced(m *Msg, from netip.AddrPort, now time.Time) *Msg {
	a := m.A
	if len(a.InfoHash) != IDSize {
		return errorMsg(m.T, ErrCodeProtocol, "info_hash is not 20 bytes")
	}
	port := from.Port()
	if a.ImpliedPort == 0 {
		if a.Port == nil || *a.Port <= 0 || *a.Port > 65535 {
			return errorMsg(m.T, ErrCodeProtocol, "bad port")
		}
		port = uint16(*a.Port)
	}
	if !n.tokens.valid(a.Token, from.Addr(), now, n.rng) {
		return errorMsg(m.T, ErrCodeProtocol, "bad token")
	}
	n.store.add(ID([]byte(a.InfoHash)), netip.AddrPortFrom(from.Addr(), port), now, n.rng)
	return nil
}

// learnFromQuery notes a query from a node: known nodes stay good (BEP 5), unknown ones that
// would get a slot are pinged first, since a query's source address proves little.
// Read-only nodes (BEP 43) never enter the table.
func (n *Node) learnFromQuery(id ID, ro bool, from netip.AddrPort, now time.Time) {
	if ro || n.table.Queried(id, from, now) {
		return
	}
	ni := NodeInfo{ID: id, Addr: from}
	if !n.table.WouldAccept(ni, now) {
		return
	}
	select {
	case n.pings <- ni:
	default:
	}
}

// addNodes puts the K closest nodes to target into r: IPv4 ones in "nodes", IPv6 ones in
// "nodes6" when the asker is on IPv6 or wants them (BEP 32).
func (n *Node) addNodes(r *Return, target ID, from netip.AddrPort, want []string, now time.Time) {
	v4, v6 := encodeNodes(n.table.Closest(target, K, now))
	r.Nodes = v4
	if from.Addr().Is6() || slices.Contains(want, "n6") {
		r.Nodes6 = v6
	}
}

func errorMsg(tid string, code int, msg string) *Msg {
	return &Msg{T: tid, Y: "e", E: &Error{Code: code, Msg: msg}}
}
