// Package redisstore is a tracker.Store in Redis or Redis Cluster, so that several tracker
// processes share one view of every swarm (issue 15).
//
// Data model, one round trip per announce: per swarm, seeders and leechers are two sorted
// sets scored by last-announce time in milliseconds, whose members are compact peer
// addresses (6 bytes for IPv4, 18 for IPv6), plus a counter of completed downloads. The three
// keys share the hash tag {infohash} so that Redis Cluster keeps them in one slot, and one
// Lua script (announce.lua) drops members older than two intervals, adds or moves the peer,
// samples numwant peers at random (ZRANDMEMBER) and returns the counts. Every announce
// refreshes the keys' TTL to two intervals, so swarms nobody announces to expire by
// themselves; Expire sweeps the rest with SCAN in bounded steps and keeps the totals.
package redisstore

import (
	"context"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/tracker"
)

//go:embed announce.lua
var announceLua string

var announceScript = redis.NewScript(announceLua)

// Config configures a Store.
type Config struct {
	// URL names the server: redis://[user:password@]HOST:PORT[/DB] for one server, or
	// redis-cluster://HOST:PORT,HOST:PORT,... for a cluster (any of its nodes).
	URL string
	// PeerTTL is how long a peer stays without announcing (the tracker's two intervals);
	// 0 means one hour.
	PeerTTL time.Duration
	// MaxPeersPerSwarm caps each swarm; 0 means no cap.
	MaxPeersPerSwarm int
	// MaxSwarms refuses new swarms once the last sweep counted this many; 0 means no cap. It
	// is approximate: Redis keeps no global count that a cluster could update atomically.
	MaxSwarms int
	// Timeout bounds each operation (an announce, a scrape pipeline, a sweep step); 0 means
	// 1 s. A Redis that does not answer in time is treated as down.
	Timeout time.Duration
	// PoolSize is the number of connections per Redis node; 0 means 64.
	PoolSize int
	// Logger receives warnings about Redis; nil means slog.Default().
	Logger *slog.Logger
	// Rand draws the sampling seeds; nil means a random seed.
	Rand *rand.Rand
}

// Store is a tracker.Store in Redis. It is safe for concurrent use; Close releases its
// connections.
type Store struct {
	rdb     redis.UniversalClient
	cluster *redis.ClusterClient // nil for one server
	log     *slog.Logger
	ttl     time.Duration
	timeout time.Duration
	maxPeer int
	maxSw   int
	brk     breaker
	batch   *batcher

	rngMu sync.Mutex
	rng   *rand.Rand

	swarms atomic.Int64 // as of the last complete sweep
	peers  atomic.Int64
}

var (
	_ tracker.Store  = (*Store)(nil)
	_ tracker.Pinger = (*Store)(nil)
)

// New connects lazily to the Redis named by cfg.URL: New itself does no I/O, so a tracker
// can start while Redis is still down.
func New(cfg Config) (*Store, error) {
	s := &Store{
		log: cfg.Logger, ttl: cfg.PeerTTL, timeout: cfg.Timeout,
		maxPeer: cfg.MaxPeersPerSwarm, maxSw: cfg.MaxSwarms, rng: cfg.Rand,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.ttl <= 0 {
		s.ttl = time.Hour
	}
	if s.timeout <= 0 {
		s.timeout = time.Second
	}
	if s.rng == nil {
		s.rng = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	pool := cfg.PoolSize
	if pool <= 0 {
		pool = 64
	}
	var err error
	s.rdb, s.cluster, err = dial(cfg.URL, pool, s.timeout)
	if err != nil {
		return nil, err
	}
	s.batch = newBatcher(s.rdb, s.timeout)
	return s, nil
}

// Close stops the store's goroutines and closes its connections.
func (s *Store) Close() error {
	s.batch.close()
	return s.rdb.Close()
}

// hashKeys returns the keys of one swarm: seeders, leechers, downloaded.
func hashKeys(h metainfo.Hash) []string {
	tag := "t:{" + hex.EncodeToString(h[:]) + "}:"
	return []string{tag + "s", tag + "l", tag + "d"}
}

// member is the compact form of a peer address: 4 or 16 bytes of IP, 2 of port.
func member(a netip.AddrPort) string {
	ip := a.Addr().Unmap()
	b := ip.AsSlice()
	b = append(b, byte(a.Port()>>8), byte(a.Port()))
	return string(b)
}

func parseMember(m string) (netip.AddrPort, bool) {
	if len(m) != 6 && len(m) != 18 {
		return netip.AddrPort{}, false
	}
	ip, ok := netip.AddrFromSlice([]byte(m[:len(m)-2]))
	port := uint16(m[len(m)-2])<<8 | uint16(m[len(m)-1])
	return netip.AddrPortFrom(ip, port), ok
}

// op runs fn under the circuit breaker with the per-operation timeout. A failure that is not
// the caller's own cancellation counts as Redis being unavailable.
func (s *Store) op(ctx context.Context, fn func(ctx context.Context) error) error {
	if !s.brk.allow(time.Now()) {
		return fmt.Errorf("%w: redis is down, retrying later", tracker.ErrUnavailable)
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	err := fn(ctx)
	if err != nil && context.Cause(ctx) == context.Canceled {
		s.brk.cancelled()
		return err
	}
	wasDown := s.brk.down()
	if s.brk.done(err, time.Now()) {
		s.log.Warn("redis unavailable", "err", err)
	} else if wasDown && !s.brk.down() {
		s.log.Info("redis available again")
	}
	if isOutage(err) {
		return fmt.Errorf("%w: %w", tracker.ErrUnavailable, err)
	}
	return err
}

// Put runs announce.lua; see tracker.Store.
func (s *Store) Put(ctx context.Context, req tracker.PutRequest, dst []tracker.Peer) (tracker.PutResult, error) {
	res := tracker.PutResult{Peers: dst}
	flags := []byte("0000")
	noCreate := req.NoCreate || s.maxSw > 0 && s.swarms.Load() >= int64(s.maxSw)
	for i, f := range []bool{req.Seeder, req.Completed, req.Stopped, noCreate} {
		if f {
			flags[i] = '1'
		}
	}
	now := req.Now.UnixMilli()
	s.rngMu.Lock()
	rnd := s.rng.Int64N(1 << 50)
	s.rngMu.Unlock()
	var reply []any
	err := s.op(ctx, func(ctx context.Context) error {
		var err error
		reply, err = s.batch.eval(ctx, hashKeys(req.InfoHash),
			member(req.Addr), now, now-s.ttl.Milliseconds(), s.ttl.Milliseconds(), string(flags),
			req.NumWant, s.maxPeer, rnd)
		return err
	})
	if err != nil {
		return res, err
	}
	if len(reply) < 4 {
		return res, fmt.Errorf("redisstore: announce script returned %d values", len(reply))
	}
	ints := [4]int64{}
	for i := range ints {
		ints[i], _ = reply[i].(int64)
	}
	res.Counts = tracker.Counts{Complete: int(ints[0]), Incomplete: int(ints[1]), Downloaded: int(ints[2])}
	if len(reply) == 8 {
		self := member(req.Addr)
		wantL, _ := reply[6].(int64)
		wantS, _ := reply[7].(int64)
		res.Peers = appendSample(res.Peers, reply[4], self, int(wantL))
		res.Peers = appendSample(res.Peers, reply[5], self, int(wantS))
	}
	switch ints[3] {
	case 1:
		res.Created = true
	case 2:
		return res, tracker.ErrSwarmFull
	case -1:
		return res, tracker.ErrTooManySwarms
	}
	return res, nil
}

// appendSample appends up to want members of a ZRANDMEMBER reply, leaving out self.
func appendSample(dst []tracker.Peer, sample any, self string, want int) []tracker.Peer {
	members, _ := sample.([]any)
	for _, m := range members {
		if want == 0 {
			break
		}
		if str, ok := m.(string); ok && str != self {
			if a, ok := parseMember(str); ok {
				dst = append(dst, tracker.Peer{Addr: a})
				want--
			}
		}
	}
	return dst
}

// Scrape reads the counts of every hash in one pipeline (one per node in a cluster).
func (s *Store) Scrape(ctx context.Context, hs []metainfo.Hash, dst []tracker.Counts) ([]tracker.Counts, error) {
	if len(hs) == 0 {
		return dst, nil
	}
	cmds := make([][3]redis.Cmder, len(hs))
	err := s.op(ctx, func(ctx context.Context) error {
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, h := range hs {
				k := hashKeys(h)
				cmds[i] = [3]redis.Cmder{p.ZCard(ctx, k[0]), p.ZCard(ctx, k[1]), p.Get(ctx, k[2])}
			}
			return nil
		})
		if errors.Is(err, redis.Nil) {
			err = nil // a missing counter is a zero
		}
		return err
	})
	if err != nil {
		return dst, err
	}
	for _, c := range cmds {
		dst = append(dst, countsOf(c))
	}
	return dst, nil
}

func countsOf(c [3]redis.Cmder) tracker.Counts {
	d, _ := strconv.Atoi(c[2].(*redis.StringCmd).Val())
	return tracker.Counts{
		Complete:   int(c[0].(*redis.IntCmd).Val()),
		Incomplete: int(c[1].(*redis.IntCmd).Val()),
		Downloaded: d,
	}
}

// Ping reports whether Redis answers (for /healthz). It also serves as the probe that
// closes the circuit breaker once Redis is back.
func (s *Store) Ping(ctx context.Context) error {
	return s.op(ctx, func(ctx context.Context) error {
		if s.cluster != nil {
			return s.cluster.ForEachShard(ctx, func(ctx context.Context, c *redis.Client) error {
				return c.Ping(ctx).Err()
			})
		}
		return s.rdb.Ping(ctx).Err()
	})
}

// Totals returns the figures of the last complete sweep (Expire): O(1), no I/O.
func (s *Store) Totals(context.Context) (tracker.Totals, error) {
	return tracker.Totals{Swarms: int(s.swarms.Load()), Peers: int(s.peers.Load())}, nil
}
