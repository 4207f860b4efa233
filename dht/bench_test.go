package dht_test

import (
	"context"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/dht"
	"github.com/swarm-bt/swarm/metainfo"
)

// loopNet is a DHT of real UDP sockets on 127.0.0.1, for benchmarks (bench/dht.sh).
type loopNet struct {
	b     testing.TB
	nodes []*loopNode
	seq   uint64
}

type loopNode struct {
	*dht.Node
	conn   net.PacketConn
	cancel context.CancelFunc
	done   chan error
}

func (l *loopNet) start(boot ...netip.AddrPort) *loopNode {
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(l.b, err)
	l.seq++
	n, err := dht.New(dht.Config{Conn: conn, Bootstrap: boot, Logger: discard, Rand: rand.New(rand.NewPCG(l.seq, 99))})
	require.NoError(l.b, err)
	ctx, cancel := context.WithCancel(context.Background())
	ln := &loopNode{Node: n, conn: conn, cancel: cancel, done: make(chan error, 1)}
	go func() { ln.done <- n.Run(ctx) }()
	l.nodes = append(l.nodes, ln)
	return ln
}

func (ln *loopNode) addr() netip.AddrPort {
	return ln.conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

func (ln *loopNode) stop() {
	ln.cancel()
	<-ln.done
	_ = ln.conn.Close()
}

func (l *loopNet) close() {
	for _, n := range l.nodes {
		n.stop()
	}
}

// grow starts n nodes bootstrapped from the first, 8 at a time.
func (l *loopNet) grow(n int) {
	boot := l.nodes[0].addr()
	for i := 0; i < n; i += 8 {
		var wg sync.WaitGroup
		for range min(8, n-i) {
			ln := l.start(boot)
			wg.Go(func() { _ = ln.Bootstrap(context.Background()) })
		}
		wg.Wait()
	}
}

const loopSize = 256

// BenchmarkLoopback256FindSeeder: on a 256-node loopback DHT where one node announced a
// seeder, each iteration starts a new node bootstrapped from one node and times until its
// get_peers returns the seeder (bootstrap included). The new nodes stay up (the network grows
// by one node an iteration): stopping them would leave dead entries in the tables, and the
// 1 s timeouts they cost are churn, which the simulation measures, not this benchmark. Reports p50 and p99 of that time and
// the queries of the lookup. Targets: p50 < 50 ms, p99 < 500 ms.
func BenchmarkLoopback256FindSeeder(b *testing.B) {
	l := &loopNet{b: b}
	defer l.close()
	l.start()
	l.grow(loopSize - 1)
	ih := metainfo.Hash{0xbe, 0xef}
	_, err := l.nodes[17].Announce(context.Background(), ih, 7000)
	require.NoError(b, err)
	seeder := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), 7000)
	var times []time.Duration
	queries := 0
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		n := l.start(l.nodes[i%loopSize].addr())
		var res dht.LookupResult
		for {
			res, err = n.GetPeers(context.Background(), ih)
			require.NoError(b, err)
			if slices.Contains(res.Peers, seeder) {
				break
			}
		}
		times = append(times, time.Since(start))
		queries += res.Queries
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(times[min(len(times)-1, len(times)*99/100)].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(queries)/float64(b.N), "queries/lookup")
}

// BenchmarkLoopback256Lookups: get_peers lookups from settled nodes of the 256-node
// loopback DHT, one after another (run with -cpu 1 for lookups per second on one core).
func BenchmarkLoopback256Lookups(b *testing.B) {
	l := &loopNet{b: b}
	defer l.close()
	l.start()
	l.grow(loopSize - 1)
	queries := 0
	b.ResetTimer()
	for i := range b.N {
		ih := metainfo.Hash{byte(i), byte(i >> 8), 0x42}
		res, err := l.nodes[(i*7)%loopSize].GetPeers(context.Background(), ih)
		require.NoError(b, err)
		queries += res.Queries
	}
	b.ReportMetric(float64(queries)/float64(b.N), "queries/lookup")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}

// BenchmarkLoopback256IdleHeap measures the heap of 256 idle, bootstrapped nodes (their
// tables, stores, limiters and buffers) per node. Target: < 64 KiB.
func BenchmarkLoopback256IdleHeap(b *testing.B) {
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		l := &loopNet{b: b}
		l.start()
		l.grow(loopSize - 1)
		time.Sleep(time.Second)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/loopSize/1024, "KiB-heap/node")
		b.ReportMetric(float64(after.StackInuse-before.StackInuse)/loopSize/1024, "KiB-stack/node")
		nodes := 0
		for _, n := range l.nodes {
			nodes += n.Stats().Nodes
		}
		b.ReportMetric(float64(nodes)/loopSize, "table-nodes/node")
		l.close()
	}
}
