package dht

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Config configures a Node. Conn is required; the zero value of every other field has a
// usable default.
type Config struct {
	// Conn is the UDP socket, owned by the caller: the node reads and writes it but never
	// closes it. Run stops reading by setting a read deadline when its ctx ends.
	Conn net.PacketConn
	// ID is our node id. Zero means a BEP 42 id for PublicIP when that is a known public
	// address, or a random id otherwise.
	ID ID
	// PublicIP is our address as the internet sees it, when known (BEP 42).
	PublicIP netip.Addr
	// Bootstrap are the nodes to start from when the table is empty (resolved by the caller).
	Bootstrap []netip.AddrPort
	// Nodes come from a saved table (LoadState); they go in as questionable.
	Nodes []NodeInfo
	// ReadOnly makes the node send "ro" (BEP 43) and answer no queries.
	ReadOnly bool
	// Version is the "v" sent in every message (default "SW01").
	Version string
	// QueryTimeout is how long one attempt waits for an answer (default 1s); Retries is how
	// many times a query is re-sent before the node counts as failed (default 1; -1 = none).
	QueryTimeout time.Duration
	Retries      int
	// QueryRate and QueryBurst bound the queries served per source (default 20/s, burst 40);
	// MaxSources caps the sources tracked at once (default 4,096).
	QueryRate  rate.Limit
	QueryBurst int
	MaxSources int
	// Store caps the peer store.
	Store StoreConfig
	// AllowLocal accepts private and loopback addresses learned from public nodes. It is set
	// automatically when every bootstrap node is itself private or loopback.
	AllowLocal bool
	Logger     *slog.Logger
	// Rand is the node's randomness (ids, transaction ids, token secrets); nil = random seed.
	// The node uses it under its own lock.
	Rand *rand.Rand
	// Now is the clock (default time.Now). Timers use the time package, so under
	// testing/synctest both are fake.
	Now func() time.Time
}

func (c *Config) defaults() {
	if c.Version == "" {
		c.Version = "SW01"
	}
	if c.QueryTimeout <= 0 {
		c.QueryTimeout = time.Second
	}
	if c.Retries == 0 {
		c.Retries = 1
	} else if c.Retries < 0 {
		c.Retries = 0
	}
	if c.QueryRate <= 0 {
		c.QueryRate = 20
	}
	if c.QueryBurst <= 0 {
		c.QueryBurst = 40
	}
	if c.MaxSources <= 0 {
		c.MaxSources = 4096
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Rand == nil {
		c.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if len(c.Bootstrap) > 0 {
		local := true
		for _, b := range c.Bootstrap {
			local = local && isLocal(b.Addr())
		}
		c.AllowLocal = c.AllowLocal || local
	}
}

// Node is a DHT node. Its methods are safe for concurrent use.
type Node struct {
	cfg   Config
	log   *slog.Logger
	self  ID
	rules addrRules
	pings chan NodeInfo

	mu     sync.Mutex
	rng    *rand.Rand
	table  *Table
	tokens *tokens
	store  *peerStore
	lims   *limiters
	calls  map[callKey]*call
	stats  Stats
}

// Stats are a node's counters and sizes.
type Stats struct {
	Nodes, Good, Questionable int // routing table
	InfoHashes, Peers         int // peer store
	QueriesIn                 int64
	QueriesOut                int64
	Limited                   int64 // queries refused by the rate limits
	Malformed                 int64 // packets dropped undecoded
	Unexpected                int64 // answers matching no query
	Sources                   int   // sources whose query rate is tracked
}

// ErrNoNodes is returned by lookups that reached no node at all.
var ErrNoNodes = errors.New("dht: no node answered")

// New returns a node; Run starts it.
func New(cfg Config) (*Node, error) {
	if cfg.Conn == nil {
		return nil, errors.New("dht: no packet conn")
	}
	cfg.defaults()
	n := &Node{
		cfg: cfg, log: cfg.Logger, rng: cfg.Rand, rules: addrRules{allowLocal: cfg.AllowLocal},
		pings: make(chan NodeInfo, 64), calls: map[callKey]*call{},
		store: newPeerStore(cfg.Store), lims: newLimiters(cfg.QueryRate, cfg.QueryBurst, cfg.MaxSources),
	}
	n.self = cfg.ID
	if n.self == (ID{}) {
		if cfg.PublicIP.IsValid() && !bep42Exempt(cfg.PublicIP) {
			n.self = BEP42ID(cfg.PublicIP, n.rng)
		} else {
			n.self = randomID(n.rng)
		}
	}
	now := cfg.Now()
	n.table = NewTable(n.self, now)
	n.tokens = newTokens(now, n.rng)
	for _, ni := range cfg.Nodes {
		if n.rules.usable(ni.Addr, ni.Addr) {
			n.table.AddUnverified(ni, now)
		}
	}
	n.log = n.log.With("dht", n.self.String()[:8])
	return n, nil
}

// ID returns the node's id.
func (n *Node) ID() ID { return n.self }

// Addr returns the local address of the node's socket.
func (n *Node) Addr() net.Addr { return n.cfg.Conn.LocalAddr() }

// Stats returns a snapshot of the counters.
func (n *Node) Stats() Stats {
	n.mu.Lock()
	defer n.mu.Unlock()
	s := n.stats
	s.Good, s.Questionable, _ = n.table.Counts(n.cfg.Now())
	s.Nodes = n.table.Len()
	s.InfoHashes, s.Peers = len(n.store.keys), n.store.total
	s.Sources = len(n.lims.m)
	return s
}

// Nodes returns the routing table's nodes that are not bad, for saving (SaveState).
func (n *Node) Nodes() []NodeInfo {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.table.Nodes(n.cfg.Now())
}

// AddNode asks the node at addr for its id and adds it to the table if it answers: for
// nodes learned from peers' BEP 5 port messages.
func (n *Node) AddNode(addr netip.AddrPort) {
	if n.rules.usable(addr, addr) {
		select {
		case n.pings <- NodeInfo{Addr: addr}:
		default:
		}
	}
}

// Run serves the socket and keeps the table fresh until ctx ends; it bootstraps first. It
// returns nil after ctx ends, once every goroutine it started has returned, or the socket's
// error.
func (n *Node) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { _ = n.cfg.Conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	var wg sync.WaitGroup
	wg.Go(func() { n.pinger(ctx) })
	wg.Go(func() { n.maintain(ctx) })
	err := n.readLoop(ctx)
	cancel()
	wg.Wait()
	return err
}

func (n *Node) readLoop(ctx context.Context) error {
	buf := make([]byte, MaxPacketSize+1)
	for {
		nr, from, err := n.cfg.Conn.ReadFrom(buf)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("dht: read: %w", err)
			}
			n.log.Debug("dht read", "err", err)
			continue
		}
		ua, ok := from.(*net.UDPAddr)
		if !ok {
			continue
		}
		ap := ua.AddrPort()
		n.handle(ctx, buf[:nr], netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
	}
}

func (n *Node) handle(ctx context.Context, b []byte, from netip.AddrPort) {
	m, err := Decode(b)
	if err != nil || from.Port() == 0 {
		n.mu.Lock()
		n.stats.Malformed++
		n.mu.Unlock()
		return
	}
	if m.Y == "q" {
		if resp := n.serve(m, from); resp != nil {
			n.send(resp, from)
		}
		return
	}
	n.answer(m, from)
}

// send encodes m and writes it to to; errors are logged, as UDP gives no delivery anyway.
func (n *Node) send(m *Msg, to netip.AddrPort) {
	m.V = n.cfg.Version
	if n.cfg.ReadOnly {
		m.RO = 1
	}
	b, err := Encode(m)
	if err != nil {
		n.log.Warn("dht encode", "err", err)
		return
	}
	if _, err := n.cfg.Conn.WriteTo(b, net.UDPAddrFromAddrPort(to)); err != nil {
		n.log.Debug("dht write", "peer", to, "err", err)
	}
}

// pinger pings the nodes queued by AddNode and by full buckets, a few at a time.
func (n *Node) pinger(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, 8)
	for {
		select {
		case <-ctx.Done():
			return
		case ni := <-n.pings:
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Go(func() {
				defer func() { <-sem }()
				_, _, _ = n.queryNode(ctx, ni, "ping", &Args{}, nil)
			})
		}
	}
}

// maintain bootstraps, then every minute refreshes stale buckets, pings questionable nodes,
// expires stored peers and bootstraps again if the table is short of K nodes. A short table
// is retried sooner, from 5 s doubling to the minute: a bootstrap contact that lost our
// query twice, or that left, would otherwise leave a young node knowing nobody (or only the
// one node that happened to query it) for a minute, or for good, since a table that is not
// empty was never bootstrapped again.
func (n *Node) maintain(ctx context.Context) {
	_ = n.Bootstrap(ctx)
	const retryFirst = 5 * time.Second
	retry := retryFirst
	wait := func() time.Duration {
		n.mu.Lock()
		short := n.table.Len() < K
		n.mu.Unlock()
		if !short {
			retry = retryFirst
			return time.Minute
		}
		d := retry
		retry = min(2*retry, time.Minute)
		return d
	}
	t := time.NewTimer(wait())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n.mu.Lock()
		now := n.cfg.Now()
		n.store.expire(now)
		stale := n.table.Stale(now, n.rng)
		questionable := n.table.Questionable(now, 8)
		short := n.table.Len() < K
		n.mu.Unlock()
		for _, q := range questionable {
			select {
			case n.pings <- q:
			default:
			}
		}
		if short {
			_ = n.Bootstrap(ctx)
		} else {
			for _, id := range stale {
				_, _ = n.FindNode(ctx, id)
			}
		}
		t.Reset(wait())
	}
}

// Bootstrap looks up our own id, starting from the table or the bootstrap nodes, which fills
// the buckets near us (BEP 5), then a random id in every other bucket, which fills the far
// ones: without them a young table knows few nodes far away, and lookups from it stall.
func (n *Node) Bootstrap(ctx context.Context) error {
	if _, err := n.FindNode(ctx, n.self); err != nil {
		return err
	}
	n.mu.Lock()
	targets := n.table.RefreshTargets(n.rng)
	n.mu.Unlock()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for _, id := range targets {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			_, _ = n.FindNode(ctx, id)
		})
	}
	wg.Wait()
	return nil
}
