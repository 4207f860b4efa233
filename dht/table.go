package dht

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"
)

// K is the bucket size and the number of closest nodes a lookup settles on (BEP 5).
const K = 8

const (
	// goodFor is BEP 5's 15-minute rule: a node that answered within it is good.
	goodFor = 15 * time.Minute
	// badAfter consecutive unanswered queries make a node bad.
	badAfter = 2
	// replacements is the size of each bucket's replacement cache.
	replacements = 8
	// maxDepth is the number of buckets at most (one per bit of the id).
	maxDepth = IDSize * 8
)

// Status is a routing table entry's standing (BEP 5).
type Status int

// Node standings.
const (
	Good Status = iota
	Questionable
	Bad
)

// entry is one node in the table.
type entry struct {
	NodeInfo
	lastReply time.Time // last answer to one of our queries; zero = never
	lastQuery time.Time // last query it sent us
	fails     int       // consecutive unanswered queries
}

func (e *entry) status(now time.Time) Status {
	switch {
	case e.fails >= badAfter:
		return Bad
	case e.lastReply.IsZero():
		return Questionable
	case now.Sub(e.lastReply) < goodFor, now.Sub(e.lastQuery) < goodFor:
		// BEP 5: good if it answered within 15 minutes, or ever answered and queried us
		// within 15 minutes.
		return Good
	}
	return Questionable
}

type bucket struct {
	nodes   []*entry
	repl    []*entry // replacement cache, newest last
	changed time.Time
}

// Table is a Kademlia routing table: buckets of K nodes, where only the bucket that covers
// our own id splits, so the table is detailed near us and coarse far away. It is pure logic:
// every method takes the current time, nothing does I/O, and it is not safe for concurrent
// use (the Node guards it).
type Table struct {
	self    ID
	buckets []*bucket
	// perIP counts the nodes of each address key: a public IP may hold only one slot, so one
	// host cannot fill the table by answering from many ports (poisoning). Loopback and private
	// addresses are keyed by ip:port, since a LAN or a test runs many nodes per address.
	perIP map[netip.AddrPort]int
}

// NewTable returns an empty table around self.
func NewTable(self ID, now time.Time) *Table {
	return &Table{self: self, buckets: []*bucket{{changed: now}}, perIP: map[netip.AddrPort]int{}}
}

// Self returns our id.
func (t *Table) Self() ID { return t.self }

func ipKey(ap netip.AddrPort) netip.AddrPort {
	ip := ap.Addr().Unmap()
	if bep42Exempt(ip) {
		return netip.AddrPortFrom(ip, ap.Port())
	}
	return netip.AddrPortFrom(ip, 0)
}

func (t *Table) index(id ID) int {
	return min(commonPrefix(t.self, id), len(t.buckets)-1)
}

func (t *Table) find(id ID) (*bucket, int) {
	b := t.buckets[t.index(id)]
	for i, e := range b.nodes {
		if e.ID == id {
			return b, i
		}
	}
	return b, -1
}

// InsertResult says what Insert did.
type InsertResult int

// Insert outcomes.
const (
	Inserted InsertResult = iota // new node in the table
	Updated                      // known node, now fresh
	Cached                       // bucket full: kept in the replacement cache
	Rejected                     // our id, an id already held by another address, or an address over its quota
)

// Insert records that n answered one of our queries at now: only nodes proven to answer are
// inserted, which keeps spoofed and made-up addresses out. When the bucket is full and cannot
// split, a bad node is replaced; otherwise n goes to the replacement cache and ping, when
// valid, is a questionable node the caller should ping (if it fails, Failed promotes the
// replacement).
func (t *Table) Insert(n NodeInfo, now time.Time) (res InsertResult, ping NodeInfo) {
	if n.ID == t.self || !n.Addr.IsValid() {
		return Rejected, NodeInfo{}
	}
	b, i := t.find(n.ID)
	if i >= 0 {
		e := b.nodes[i]
		if e.Addr != n.Addr {
			if e.status(now) != Bad {
				return Rejected, NodeInfo{} // keep the node we know; the claim may be spoofed
			}
			t.perIP[ipKey(e.Addr)]--
			if t.perIP[ipKey(n.Addr)] > 0 {
				b.nodes = slices.Delete(b.nodes, i, i+1)
				return Rejected, NodeInfo{}
			}
			e.Addr = n.Addr
			t.perIP[ipKey(n.Addr)]++
		}
		e.lastReply, e.fails, b.changed = now, 0, now
		return Updated, NodeInfo{}
	}
	if t.perIP[ipKey(n.Addr)] > 0 {
		return Rejected, NodeInfo{}
	}
	for {
		idx := t.index(n.ID)
		b = t.buckets[idx]
		if len(b.nodes) < K {
			t.add(b, &entry{NodeInfo: n, lastReply: now}, now)
			return Inserted, NodeInfo{}
		}
		if idx != len(t.buckets)-1 || len(t.buckets) >= maxDepth {
			break
		}
		t.split()
	}
	if j := worst(b, now); j >= 0 {
		t.perIP[ipKey(b.nodes[j].Addr)]--
		b.nodes = slices.Delete(b.nodes, j, j+1)
		t.add(b, &entry{NodeInfo: n, lastReply: now}, now)
		return Inserted, NodeInfo{}
	}
	cache(b, &entry{NodeInfo: n, lastReply: now})
	var oldest *entry
	for _, e := range b.nodes {
		if e.status(now) == Questionable && (oldest == nil || e.lastReply.Before(oldest.lastReply)) {
			oldest = e
		}
	}
	if oldest != nil {
		ping = oldest.NodeInfo
	}
	return Cached, ping
}

func (t *Table) add(b *bucket, e *entry, now time.Time) {
	b.nodes = append(b.nodes, e)
	b.changed = now
	t.perIP[ipKey(e.Addr)]++
}

// worst returns the index of a bad node of b (the one with most failures), or -1.
func worst(b *bucket, now time.Time) int {
	j := -1
	for i, e := range b.nodes {
		if e.status(now) == Bad && (j < 0 || e.fails > b.nodes[j].fails) {
			j = i
		}
	}
	return j
}

func cache(b *bucket, e *entry) {
	b.repl = slices.DeleteFunc(b.repl, func(r *entry) bool { return r.ID == e.ID || r.Addr == e.Addr })
	if len(b.repl) >= replacements {
		b.repl = b.repl[1:]
	}
	b.repl = append(b.repl, e)
}

// split divides the last bucket (the one covering our id) in two.
func (t *Table) split() {
	last := len(t.buckets) - 1
	old := t.buckets[last]
	near := &bucket{changed: old.changed}
	far := &bucket{changed: old.changed}
	for _, e := range old.nodes {
		if commonPrefix(t.self, e.ID) > last {
			near.nodes = append(near.nodes, e)
		} else {
			far.nodes = append(far.nodes, e)
		}
	}
	for _, e := range old.repl {
		if commonPrefix(t.self, e.ID) > last {
			near.repl = append(near.repl, e)
		} else {
			far.repl = append(far.repl, e)
		}
	}
	t.buckets[last] = far
	t.buckets = append(t.buckets, near)
}

// Queried records a query from id at addr; it reports whether the node is in the table.
func (t *Table) Queried(id ID, addr netip.AddrPort, now time.Time) bool {
	b, i := t.find(id)
	if i < 0 || b.nodes[i].Addr != addr {
		return false
	}
	b.nodes[i].lastQuery = now
	return true
}

// WouldAccept reports whether a node that is not in the table would get a slot (or a place
// in a replacement cache) if it answered a ping: used to decide whether to ping a node that
// queried us.
func (t *Table) WouldAccept(n NodeInfo, now time.Time) bool {
	if n.ID == t.self || t.perIP[ipKey(n.Addr)] > 0 {
		return false
	}
	idx := t.index(n.ID)
	b := t.buckets[idx]
	if _, i := t.find(n.ID); i >= 0 {
		return false
	}
	return len(b.nodes) < K || (idx == len(t.buckets)-1 && len(t.buckets) < maxDepth) || worst(b, now) >= 0
}

// Failed records that a query to the node at addr went unanswered. A node that becomes bad is
// replaced by the newest node of the replacement cache, if any.
func (t *Table) Failed(id ID, addr netip.AddrPort, now time.Time) {
	b, i := t.find(id)
	if i < 0 || b.nodes[i].Addr != addr {
		return
	}
	e := b.nodes[i]
	e.fails++
	if e.status(now) != Bad || len(b.repl) == 0 {
		return
	}
	r := b.repl[len(b.repl)-1]
	b.repl = b.repl[:len(b.repl)-1]
	if t.perIP[ipKey(r.Addr)] > 0 && ipKey(r.Addr) != ipKey(e.Addr) {
		return
	}
	t.perIP[ipKey(e.Addr)]--
	b.nodes[i] = r
	t.perIP[ipKey(r.Addr)]++
	b.changed = now
}

// Closest returns up to n nodes that are not bad, closest to target first.
func (t *Table) Closest(target ID, n int, now time.Time) []NodeInfo {
	var all []NodeInfo
	for _, b := range t.buckets {
		for _, e := range b.nodes {
			if e.status(now) != Bad {
				all = append(all, e.NodeInfo)
			}
		}
	}
	slices.SortFunc(all, func(a, b NodeInfo) int {
		switch {
		case closer(target, a.ID, b.ID):
			return -1
		case closer(target, b.ID, a.ID):
			return 1
		}
		return 0
	})
	return all[:min(n, len(all))]
}

// Stale returns one random target in each bucket not changed for 15 minutes (BEP 5 refresh)
// and marks those buckets changed, so each is refreshed once per period.
func (t *Table) Stale(now time.Time, r *rand.Rand) []ID {
	var ids []ID
	for i, b := range t.buckets {
		if now.Sub(b.changed) < goodFor {
			continue
		}
		b.changed = now
		if i == len(t.buckets)-1 {
			id := randomID(r)
			for j := 0; j < i; j++ {
				setBit(&id, j, bit(t.self, j))
			}
			ids = append(ids, id)
		} else {
			ids = append(ids, randomIDWithPrefix(r, t.self, i))
		}
	}
	return ids
}

// RefreshTargets returns one random target in each bucket that is not full, but the one
// covering our id: the lookups that fill the far buckets after a bootstrap, which only
// filled the near ones.
func (t *Table) RefreshTargets(r *rand.Rand) []ID {
	var ids []ID
	for i, b := range t.buckets[:len(t.buckets)-1] {
		if len(b.nodes) < K {
			ids = append(ids, randomIDWithPrefix(r, t.self, i))
		}
	}
	return ids
}

// Questionable returns the nodes that have not answered for 15 minutes and are not yet bad,
// oldest first, at most n: the ones to ping so that the table learns who is gone.
func (t *Table) Questionable(now time.Time, n int) []NodeInfo {
	var q []*entry
	for _, b := range t.buckets {
		for _, e := range b.nodes {
			if e.status(now) == Questionable {
				q = append(q, e)
			}
		}
	}
	slices.SortFunc(q, func(a, b *entry) int { return a.lastReply.Compare(b.lastReply) })
	out := make([]NodeInfo, 0, min(n, len(q)))
	for _, e := range q[:min(n, len(q))] {
		out = append(out, e.NodeInfo)
	}
	return out
}

// Counts returns how many nodes the table holds by status.
func (t *Table) Counts(now time.Time) (good, questionable, bad int) {
	for _, b := range t.buckets {
		for _, e := range b.nodes {
			switch e.status(now) {
			case Good:
				good++
			case Questionable:
				questionable++
			default:
				bad++
			}
		}
	}
	return good, questionable, bad
}

// Len returns the number of nodes in the table.
func (t *Table) Len() int {
	n := 0
	for _, b := range t.buckets {
		n += len(b.nodes)
	}
	return n
}

// Buckets returns the number of buckets.
func (t *Table) Buckets() int { return len(t.buckets) }

// Nodes returns every node that is not bad, for saving.
func (t *Table) Nodes(now time.Time) []NodeInfo {
	return t.Closest(t.self, t.Len(), now)
}

// Contains reports whether the table holds id at addr.
func (t *Table) Contains(n NodeInfo) bool {
	b, i := t.find(n.ID)
	return i >= 0 && b.nodes[i].Addr == n.Addr
}

// AddUnverified puts a node from a saved table in as questionable, so a restart needs no
// bootstrap; it becomes good once it answers, or bad if it does not.
func (t *Table) AddUnverified(n NodeInfo, now time.Time) bool {
	if res, _ := t.Insert(n, now); res != Inserted {
		return false
	}
	b, i := t.find(n.ID)
	b.nodes[i].lastReply = time.Time{}
	return true
}
