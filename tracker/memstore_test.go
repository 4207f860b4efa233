package tracker_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/tracker"
	"github.com/swarm-bt/swarm/tracker/trackertest"
)

func newMemStore(*testing.T) tracker.Store {
	return tracker.NewMemStore(tracker.MemStoreConfig{Rand: rand.New(rand.NewPCG(1, 2))})
}

func TestMemStore(t *testing.T) {
	trackertest.TestStore(t, newMemStore)
	for _, shards := range []int{1, 3} {
		trackertest.TestStore(t, func(*testing.T) tracker.Store {
			return tracker.NewMemStore(tracker.MemStoreConfig{Shards: shards, Rand: rand.New(rand.NewPCG(3, 4))})
		})
	}
}

func TestMemStoreCaps(t *testing.T) {
	s := tracker.NewMemStore(tracker.MemStoreConfig{MaxPeersPerSwarm: 2, MaxSwarms: 1})
	now := time.Unix(1000, 0)
	req := func(h, n int) tracker.PutRequest {
		return tracker.PutRequest{InfoHash: trackertest.Hash(h), Now: now, NumWant: 10,
			Addr: trackertest.Addr(n)}
	}
	ctx := t.Context()
	for n := range 2 {
		_, err := s.Put(ctx, req(1, n), nil)
		require.NoError(t, err)
	}
	res, err := s.Put(ctx, req(1, 9), nil)
	require.ErrorIs(t, err, tracker.ErrSwarmFull)
	assert.Len(t, res.Peers, 2, "a refused peer still gets a sample")
	assert.Equal(t, tracker.Counts{Incomplete: 2}, res.Counts)
	_, err = s.Put(ctx, req(1, 1), nil)
	require.NoError(t, err, "a known peer re-announces into a full swarm")
	_, err = s.Put(ctx, req(2, 1), nil)
	require.ErrorIs(t, err, tracker.ErrTooManySwarms)
}

// TestMemStoreSampleFair checks the sampler's two promises: a leecher's sample holds seeders
// and leechers in proportion to the swarm (not a run of one kind), and over many announces
// every stored peer is handed out about equally often, the ones that joined last included.
func TestMemStoreSampleFair(t *testing.T) {
	s := tracker.NewMemStore(tracker.MemStoreConfig{Rand: rand.New(rand.NewPCG(5, 6))})
	now := time.Unix(1000, 0)
	put := func(n int, seeder bool, want int) []tracker.Peer {
		res, err := s.Put(t.Context(), tracker.PutRequest{InfoHash: trackertest.Hash(1), Now: now, NumWant: want,
			Seeder: seeder, Addr: trackertest.Addr(n)}, nil)
		require.NoError(t, err)
		return res.Peers
	}
	const leechers, seeders = 150, 50
	isSeeder := map[netip.AddrPort]bool{}
	for n := range leechers + seeders {
		put(n, n >= leechers, 0)
		isSeeder[trackertest.Addr(n)] = n >= leechers
	}
	seen := map[netip.AddrPort]int{}
	const rounds, want = 4000, 20
	for i := range rounds {
		self := i % leechers // existing leechers re-announce
		peers := put(self, false, want)
		require.Len(t, peers, want)
		nseed := 0
		for _, p := range peers {
			require.NotEqual(t, trackertest.Addr(self), p.Addr, "never self")
			seen[p.Addr]++
			if isSeeder[p.Addr] {
				nseed++
			}
		}
		// 20 * 50/199 = 5.03: random rounding gives 5 or 6.
		assert.Contains(t, []int{5, 6}, nseed, "seeders in a leecher's sample, round %d", i)
	}
	expect := float64(rounds*want) / float64(leechers+seeders-1)
	require.Len(t, seen, leechers+seeders)
	for id, got := range seen {
		assert.InDelta(t, expect, float64(got), expect/3, "times %s was handed out", id)
	}
}

// BenchmarkMemStoreBytesPerPeer stores 1,000,000 peers over 10,000 swarms and reports the heap
// growth per peer (target: under 300 bytes).
func BenchmarkMemStoreBytesPerPeer(b *testing.B) {
	const swarms, perSwarm = 10_000, 100
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := tracker.NewMemStore(tracker.MemStoreConfig{Rand: rand.New(rand.NewPCG(1, 1))})
		now := time.Unix(1000, 0)
		for h := range swarms {
			for n := range perSwarm {
				req := tracker.PutRequest{InfoHash: trackertest.Hash(h), Now: now, Seeder: n%4 == 0,
					Addr: trackertest.Addr(n)}
				if _, err := s.Put(b.Context(), req, nil); err != nil {
					b.Fatal(err)
				}
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		tot, _ := s.Totals(b.Context())
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(tot.Peers), "bytes/peer")
		runtime.KeepAlive(s)
	}
}

// BenchmarkMemStorePut announces random peers over 1,024 swarms from all CPUs, with one lock
// (shards=1) and with the default 256 shards: the case for sharding.
func BenchmarkMemStorePut(b *testing.B) {
	for _, shards := range []int{1, 256} {
		b.Run(fmt.Sprintf("shards=%d", shards), func(b *testing.B) {
			s := tracker.NewMemStore(tracker.MemStoreConfig{Shards: shards, Rand: rand.New(rand.NewPCG(1, 1))})
			now := time.Unix(1000, 0)
			b.RunParallel(func(pb *testing.PB) {
				r := rand.New(rand.NewPCG(rand.Uint64(), 0))
				dst := make([]tracker.Peer, 0, 50)
				for pb.Next() {
					n := r.IntN(1 << 20)
					req := tracker.PutRequest{InfoHash: trackertest.Hash(n % 1024), Now: now, NumWant: 50,
						Addr: trackertest.Addr(n)}
					res, _ := s.Put(b.Context(), req, dst[:0])
					dst = res.Peers
				}
			})
		})
	}
}

// BenchmarkMemStorePutFull announces into a store that already holds 524,288 peers over 1,024
// swarms, about what bench/tracker-load.sh leaves behind: at that size, where each sampled
// peer sits in memory decides the cost of an announce (cache and TLB misses).
func BenchmarkMemStorePutFull(b *testing.B) {
	s := tracker.NewMemStore(tracker.MemStoreConfig{Rand: rand.New(rand.NewPCG(1, 1))})
	now := time.Unix(1000, 0)
	req := func(n int) tracker.PutRequest {
		return tracker.PutRequest{InfoHash: trackertest.Hash(n % 1024), Now: now, NumWant: 50, Seeder: n%2 == 0,
			Addr: trackertest.Addr(n)}
	}
	const stored = 1 << 19
	for n := range stored {
		_, _ = s.Put(b.Context(), req(n), nil)
	}
	r := rand.New(rand.NewPCG(2, 2))
	dst := make([]tracker.Peer, 0, 50)
	b.ResetTimer()
	for b.Loop() {
		res, _ := s.Put(b.Context(), req(r.IntN(stored)), dst[:0])
		dst = res.Peers
	}
}
