package dht

import (
	"context"
	"net/netip"
	"slices"
	"sync"

	"github.com/swarm-bt/swarm/metainfo"
)

const (
	// alpha is the number of queries a lookup keeps in flight (BEP 5, Kademlia).
	alpha = 3
	// maxNodesPerAnswer bounds the nodes taken from one answer.
	maxNodesPerAnswer = 2 * K
	// maxLookupPeers bounds the peers one get_peers lookup collects.
	maxLookupPeers = 1000
	// maxLookupAsked bounds the nodes one lookup asks: an honest lookup asks about 15, and
	// nodes that keep naming fresh, closer, made-up nodes must not keep it going.
	maxLookupAsked = 100
)

// LookupResult is what a lookup found.
type LookupResult struct {
	// Peers are the distinct peers found (get_peers only).
	Peers []netip.AddrPort
	// Closest are up to K nodes closest to the target that answered, closest first.
	Closest []NodeInfo
	// Queries is the number of packets sent, retries included; Stored is the number of
	// nodes that accepted our announce_peer.
	Queries, Stored int
}

type candState int

const (
	fresh candState = iota
	asked
	slow // first attempt timed out, retry in flight: no longer waited for
	answered
	failed
)

type candidate struct {
	NodeInfo
	state candState
	token string
	known bool // id known (false for a bootstrap address until it answers)
}

// lookup is one iterative search for target (BEP 5): query the alpha closest unasked
// candidates, merge the nodes they return, and stop when the K closest candidates that did
// not fail have all answered.
type lookup struct {
	n      *Node
	target ID
	method string // find_node or get_peers

	cands    []*candidate // known ids, closest first
	boot     []*candidate // bootstrap addresses, ids unknown
	seen     map[netip.AddrPort]bool
	seenKey  map[netip.AddrPort]bool // ipKey: one candidate per public IP (poisoning)
	peers    []netip.AddrPort
	peerSeen map[netip.AddrPort]bool
	queries  int
	asked    int
}

type reply struct {
	c    *candidate
	m    *Msg
	sent int
	err  error
	slow bool // first attempt timed out, the query goes on
}

func (n *Node) newLookup(target ID, method string) *lookup {
	l := &lookup{
		n: n, target: target, method: method,
		seen: map[netip.AddrPort]bool{}, seenKey: map[netip.AddrPort]bool{}, peerSeen: map[netip.AddrPort]bool{},
	}
	n.mu.Lock()
	seeds := n.table.Closest(target, K, n.cfg.Now())
	n.mu.Unlock()
	for _, s := range seeds {
		l.add(s)
	}
	if len(seeds) < K {
		for _, b := range n.cfg.Bootstrap {
			if !l.seen[b] {
				l.seen[b] = true
				l.boot = append(l.boot, &candidate{NodeInfo: NodeInfo{Addr: b}})
			}
		}
	}
	return l
}

// add makes ni a candidate unless its address or public IP is already one.
func (l *lookup) add(ni NodeInfo) {
	if ni.ID == l.n.self || l.seen[ni.Addr] || l.seenKey[ipKey(ni.Addr)] {
		return
	}
	l.seen[ni.Addr] = true
	l.seenKey[ipKey(ni.Addr)] = true
	l.insert(&candidate{NodeInfo: ni, known: true})
}

// insert puts c into the candidates in order of distance.
func (l *lookup) insert(c *candidate) {
	i, _ := slices.BinarySearchFunc(l.cands, c, func(a, b *candidate) int {
		if closer(l.target, a.ID, b.ID) {
			return -1
		}
		if closer(l.target, b.ID, a.ID) {
			return 1
		}
		return 0
	})
	l.cands = slices.Insert(l.cands, i, c)
}

// next returns the candidate to ask next, or nil when none should be asked now: bootstrap
// addresses first, then the closest fresh candidate among the K closest that did not fail.
func (l *lookup) next() *candidate {
	if l.asked >= maxLookupAsked {
		return nil
	}
	for _, c := range l.boot {
		if c.state == fresh {
			return c
		}
	}
	inWindow := 0
	for _, c := range l.cands {
		if c.state == failed || c.state == slow {
			continue
		}
		if c.state == fresh {
			return c
		}
		if inWindow++; inWindow == K {
			return nil
		}
	}
	return nil
}

func (l *lookup) run(ctx context.Context, args func(*candidate) *Args) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	replies := make(chan reply)
	var wg sync.WaitGroup
	defer wg.Wait()
	active, outstanding := 0, 0
	for {
		for active < alpha && ctx.Err() == nil {
			c := l.next()
			if c == nil {
				break
			}
			c.state = asked
			l.asked++
			active++
			outstanding++
			wg.Go(func() {
				slow := func() { replies <- reply{c: c, slow: true} }
				m, sent, err := l.n.queryNode(ctx, c.NodeInfo, l.method, args(c), slow)
				replies <- reply{c: c, m: m, sent: sent, err: err}
			})
		}
		if active == 0 {
			// Done: the K closest answered or failed. Retries still in flight are not
			// worth waiting for; cancelling them does not count against their nodes.
			cancel()
		}
		if outstanding == 0 {
			return
		}
		r := <-replies
		if r.slow {
			active-- // let another query start; this one still counts as outstanding
			r.c.state = slow
			continue
		}
		outstanding--
		if r.sent <= 1 {
			active--
		}
		l.queries += r.sent
		l.handle(r)
	}
}

func (l *lookup) handle(r reply) {
	c := r.c
	if r.err != nil || r.m == nil {
		c.state = failed
		return
	}
	c.state = answered
	c.token = r.m.R.Token
	if !c.known {
		// A bootstrap address answered: now that its id is known it is a candidate like any
		// other (in a small network it may be one of the closest, and store peers).
		c.ID, c.known = ID([]byte(r.m.R.ID)), true
		if c.ID != l.n.self && !l.seenKey[ipKey(c.Addr)] {
			l.seenKey[ipKey(c.Addr)] = true
			l.insert(&candidate{NodeInfo: c.NodeInfo, state: answered, token: c.token, known: true})
		}
	}
	l.merge(r.m.R, c.Addr)
}

// merge adds the nodes and peers of an answer from the node at from.
func (l *lookup) merge(r *Return, from netip.AddrPort) {
	rules := l.n.rules
	var ns []NodeInfo
	if v4, err := parseNodes(r.Nodes, 4); err == nil {
		ns = v4
	}
	if v6, err := parseNodes(r.Nodes6, 16); err == nil {
		ns = append(ns, v6...)
	}
	for _, ni := range ns[:min(len(ns), maxNodesPerAnswer)] {
		ni.Addr = netip.AddrPortFrom(ni.Addr.Addr().Unmap(), ni.Addr.Port())
		if rules.usable(ni.Addr, from) {
			l.add(ni)
		}
	}
	for _, v := range r.Values {
		p, err := parseAddr(v)
		if err != nil || len(l.peers) >= maxLookupPeers {
			continue
		}
		p = netip.AddrPortFrom(p.Addr().Unmap(), p.Port())
		if rules.usable(p, from) && !l.peerSeen[p] {
			l.peerSeen[p] = true
			l.peers = append(l.peers, p)
		}
	}
}

// closest returns the K closest candidates that answered.
func (l *lookup) closest() []*candidate {
	var out []*candidate
	for _, c := range l.cands {
		if c.state == answered && len(out) < K {
			out = append(out, c)
		}
	}
	return out
}

func (l *lookup) result() (LookupResult, error) {
	res := LookupResult{Peers: l.peers, Queries: l.queries}
	for _, c := range l.closest() {
		res.Closest = append(res.Closest, c.NodeInfo)
	}
	if len(res.Closest) == 0 && len(l.peers) == 0 {
		return res, ErrNoNodes
	}
	return res, nil
}

// FindNode looks up the K nodes closest to target.
func (n *Node) FindNode(ctx context.Context, target ID) (LookupResult, error) {
	l := n.newLookup(target, "find_node")
	l.run(ctx, func(*candidate) *Args { return &Args{Target: string(target[:])} })
	return l.result()
}

// GetPeers looks up the peers of ih.
func (n *Node) GetPeers(ctx context.Context, ih metainfo.Hash) (LookupResult, error) {
	l := n.getPeers(ctx, IDFromHash(ih))
	return l.result()
}

func (n *Node) getPeers(ctx context.Context, target ID) *lookup {
	l := n.newLookup(target, "get_peers")
	l.run(ctx, func(*candidate) *Args { return &Args{InfoHash: string(target[:])} })
	return l
}

// Announce looks up ih, then announces us as a peer on port to the K closest nodes that
// answered with a token, preferring nodes whose id is valid for their address (BEP 42): a
// node that chose its id freely may have chosen it to capture this info-hash. Port 0 means
// implied_port: the nodes use our UDP source port (BEP 5). It returns the peers found too.
func (n *Node) Announce(ctx context.Context, ih metainfo.Hash, port uint16) (LookupResult, error) {
	l := n.getPeers(ctx, IDFromHash(ih))
	res, err := l.result()
	if err != nil {
		return res, err
	}
	var valid, other []*candidate
	for _, c := range l.cands {
		if c.state != answered || c.token == "" {
			continue
		}
		if BEP42Valid(c.ID, c.Addr.Addr()) {
			valid = append(valid, c)
		} else {
			other = append(other, c)
		}
	}
	targets := append(valid[:min(len(valid), K)], other...)
	targets = targets[:min(len(targets), K)]
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range targets {
		a := &Args{InfoHash: string(ih[:]), Token: c.token}
		if port == 0 {
			a.ImpliedPort = 1
		} else {
			p := int(port)
			a.Port = &p
		}
		wg.Go(func() {
			_, sent, err := n.queryNode(ctx, c.NodeInfo, "announce_peer", a, nil)
			mu.Lock()
			defer mu.Unlock()
			res.Queries += sent
			if err == nil {
				res.Stored++
			}
		})
	}
	wg.Wait()
	return res, nil
}
