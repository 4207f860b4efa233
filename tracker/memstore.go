package tracker

import (
	"context"
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swarm-bt/swarm/metainfo"
)

// MemStoreConfig configures a MemStore. The zero value is usable.
type MemStoreConfig struct {
	// Shards is the number of independently locked shards, rounded up to a power of two;
	// 0 means 256.
	Shards int
	// MaxPeersPerSwarm caps each swarm; 0 means no cap.
	MaxPeersPerSwarm int
	// MaxSwarms caps the number of swarms; 0 means no cap.
	MaxSwarms int
	// Rand seeds each shard's sampling source; nil means a random seed.
	Rand *rand.Rand
}

// MemStore is the in-memory Store. Swarms are sharded by info-hash; each swarm keeps its
// seeders and leechers as two slices of fixed-size, pointer-free records plus one index map
// from peer address to position, so a stored peer costs about 80 bytes and the garbage
// collector never scans peer data.
type MemStore struct {
	shards    []shard
	mask      uint32
	maxPeers  int
	maxSwarms int64
	nswarms   atomic.Int64
	npeers    atomic.Int64
}

type shard struct {
	mu     sync.Mutex
	swarms map[metainfo.Hash]*swarm
	rng    *rand.Rand
	_      [40]byte // keep hot mutexes on separate cache lines
}

var _ Store = (*MemStore)(nil)

// NewMemStore returns an empty store.
func NewMemStore(cfg MemStoreConfig) *MemStore {
	n := cfg.Shards
	if n <= 0 {
		n = 256
	}
	n = 1 << bits.Len(uint(n-1))
	r := cfg.Rand
	if r == nil {
		r = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	s := &MemStore{
		shards:    make([]shard, n),
		mask:      uint32(n - 1),
		maxPeers:  cfg.MaxPeersPerSwarm,
		maxSwarms: int64(cfg.MaxSwarms),
	}
	for i := range s.shards {
		s.shards[i].swarms = make(map[metainfo.Hash]*swarm)
		s.shards[i].rng = rand.New(rand.NewPCG(r.Uint64(), r.Uint64()))
	}
	return s
}

func (s *MemStore) shard(h metainfo.Hash) *shard {
	return &s.shards[binary.LittleEndian.Uint32(h[:4])&s.mask]
}

// Put records an announce and samples peers; see Store.
func (s *MemStore) Put(_ context.Context, req PutRequest, dst []Peer) (PutResult, error) {
	sh := s.shard(req.InfoHash)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	res := PutResult{Peers: dst}
	sw := sh.swarms[req.InfoHash]
	if sw == nil {
		switch {
		case req.Stopped:
			return res, nil
		case req.NoCreate || s.maxSwarms > 0 && s.nswarms.Load() >= s.maxSwarms:
			return res, ErrTooManySwarms
		}
		sw = &swarm{index: make(map[addrKey]uint32, 1)}
		sh.swarms[req.InfoHash] = sw
		s.nswarms.Add(1)
		res.Created = true
	}
	if req.Stopped {
		s.npeers.Add(-int64(sw.stop(req)))
		res.Counts = sw.counts()
		return res, nil
	}
	added, err := sw.put(req, s.maxPeers, sh.rng)
	s.npeers.Add(int64(added))
	res.Peers = sw.sample(dst, keyOf(req.Addr), req.Seeder, req.NumWant, sh.rng)
	res.Counts = sw.counts()
	return res, err
}

// Scrape appends the counts of each swarm, zero for unknown ones.
func (s *MemStore) Scrape(_ context.Context, hs []metainfo.Hash, dst []Counts) ([]Counts, error) {
	for _, h := range hs {
		sh := s.shard(h)
		sh.mu.Lock()
		var c Counts
		if sw := sh.swarms[h]; sw != nil {
			c = sw.counts()
		}
		sh.mu.Unlock()
		dst = append(dst, c)
	}
	return dst, nil
}

// Swarms yields every swarm's counts, one shard snapshot at a time, without holding a lock
// while yielding.
func (s *MemStore) Swarms(ctx context.Context, yield func(metainfo.Hash, Counts) bool) error {
	type entry struct {
		h metainfo.Hash
		c Counts
	}
	var buf []entry
	for i := range s.shards {
		if err := ctx.Err(); err != nil {
			return err
		}
		sh := &s.shards[i]
		buf = buf[:0]
		sh.mu.Lock()
		for h, sw := range sh.swarms {
			buf = append(buf, entry{h, sw.counts()})
		}
		sh.mu.Unlock()
		for _, e := range buf {
			if !yield(e.h, e.c) {
				return nil
			}
		}
	}
	return nil
}

// Expire removes peers last seen before cutoff, then swarms left empty. It visits every
// swarm, one shard lock at a time: in memory that is fast enough to do in one call.
func (s *MemStore) Expire(_ context.Context, cutoff time.Time) (int, error) {
	c := cutoff.UnixNano()
	removed := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		for h, sw := range sh.swarms {
			removed += sw.expire(c)
			if len(sw.seeders)+len(sw.leechers) == 0 {
				delete(sh.swarms, h)
				s.nswarms.Add(-1)
			}
		}
		sh.mu.Unlock()
	}
	s.npeers.Add(int64(-removed))
	return removed, nil
}

// Totals returns the number of swarms and stored peers, kept up to date by every change.
func (s *MemStore) Totals(context.Context) (Totals, error) {
	return Totals{Swarms: int(s.nswarms.Load()), Peers: int(s.npeers.Load())}, nil
}
