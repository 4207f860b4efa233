package tracker

import (
	"encoding/binary"
	"iter"
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
// from peer id to position, so a stored peer costs about 100 bytes and the garbage collector
// never scans peer data.
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
func (s *MemStore) Put(req PutRequest, dst []Peer) ([]Peer, Counts, error) {
	sh := s.shard(req.InfoHash)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sw := sh.swarms[req.InfoHash]
	if sw == nil {
		if s.maxSwarms > 0 && s.nswarms.Load() >= s.maxSwarms {
			return dst, Counts{}, ErrTooManySwarms
		}
		sw = &swarm{index: make(map[PeerID]uint32, 1)}
		sh.swarms[req.InfoHash] = sw
		s.nswarms.Add(1)
	}
	added, err := sw.put(req, s.maxPeers, sh.rng)
	s.npeers.Add(int64(added))
	dst = sw.sample(dst, req.Peer.ID, req.Seeder, req.NumWant, sh.rng)
	return dst, sw.counts(), err
}

// Remove deletes a peer (event=stopped) and returns the swarm's counts afterwards. The swarm
// itself stays until Expire finds it empty, so its downloaded count survives a quiet moment.
func (s *MemStore) Remove(h metainfo.Hash, id PeerID) Counts {
	sh := s.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sw := sh.swarms[h]
	if sw == nil {
		return Counts{}
	}
	if loc, ok := sw.index[id]; ok {
		sw.removeAt(loc)
		s.npeers.Add(-1)
	}
	return sw.counts()
}

// Scrape returns the counts of one swarm and whether it exists.
func (s *MemStore) Scrape(h metainfo.Hash) (Counts, bool) {
	sh := s.shard(h)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sw := sh.swarms[h]
	if sw == nil {
		return Counts{}, false
	}
	return sw.counts(), true
}

// Swarms yields every swarm's counts, one shard snapshot at a time, without holding a lock
// while yielding.
func (s *MemStore) Swarms() iter.Seq2[metainfo.Hash, Counts] {
	return func(yield func(metainfo.Hash, Counts) bool) {
		type entry struct {
			h metainfo.Hash
			c Counts
		}
		var buf []entry
		for i := range s.shards {
			sh := &s.shards[i]
			buf = buf[:0]
			sh.mu.Lock()
			for h, sw := range sh.swarms {
				buf = append(buf, entry{h, sw.counts()})
			}
			sh.mu.Unlock()
			for _, e := range buf {
				if !yield(e.h, e.c) {
					return
				}
			}
		}
	}
}

// Expire removes peers last seen before cutoff, then swarms left empty.
func (s *MemStore) Expire(cutoff time.Time) int {
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
	return removed
}

// Len returns the number of swarms and stored peers.
func (s *MemStore) Len() (swarms, peers int) {
	return int(s.nswarms.Load()), int(s.npeers.Load())
}
