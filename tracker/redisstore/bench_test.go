package redisstore_test

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/swarm-bt/swarm/tracker"
	"github.com/swarm-bt/swarm/tracker/redisstore"
	"github.com/swarm-bt/swarm/tracker/redisstore/redistest"
	"github.com/swarm-bt/swarm/tracker/trackertest"
)

// BenchmarkRedisBytesPerPeer stores 1,000,000 peers through Store.Put (32 at a time) and
// reports Redis's used_memory growth per peer (target: under 150 bytes), over 1,024 swarms of
// about 1,000 peers (sorted sets as skip lists) and over 20,000 swarms of 50 (Redis's compact
// listpack encoding, up to 128 members). It also reports the store's announces per second
// without HTTP.
func BenchmarkRedisBytesPerPeer(b *testing.B) {
	const peers = 1_000_000
	srv := redistest.Start(b)
	for _, swarms := range []int{1024, 20_000} {
		b.Run(fmt.Sprintf("swarms=%d", swarms), func(b *testing.B) {
			for range b.N {
				if _, err := srv.CLI("FLUSHALL"); err != nil {
					b.Fatal(err)
				}
				before := usedMemory(b, srv)
				st, err := redisstore.New(redisstore.Config{URL: srv.URL(), PeerTTL: time.Hour, Rand: rand.New(rand.NewPCG(1, 1))})
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				fill(b, st, swarms, peers)
				elapsed := time.Since(start)
				after := usedMemory(b, srv)
				_ = st.Close()
				b.ReportMetric(float64(after-before)/peers, "bytes/peer")
				b.ReportMetric(peers/elapsed.Seconds(), "puts/s")
			}
		})
	}
}

func fill(b *testing.B, st tracker.Store, swarms, peers int) {
	now := time.Now()
	var wg sync.WaitGroup
	const workers = 32
	for w := range workers {
		wg.Go(func() {
			for i := w; i < peers; i += workers {
				req := tracker.PutRequest{InfoHash: trackertest.Hash(i % swarms), Seeder: i%2 == 0, Now: now,
					Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), uint16(1024+i%50000))}
				if _, err := st.Put(b.Context(), req, nil); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func usedMemory(b *testing.B, srv *redistest.Server) int64 {
	v, err := srv.Info("memory", "used_memory")
	if err != nil {
		b.Fatal(err)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		b.Fatal(err)
	}
	return n
}
