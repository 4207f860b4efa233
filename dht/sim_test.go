package dht_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/dht"
	"github.com/swarm-bt/swarm/dht/dhttest"
	"github.com/swarm-bt/swarm/metainfo"
)

// cluster runs DHT nodes on an in-memory network inside a synctest bubble.
type cluster struct {
	t     *testing.T
	net   *dhttest.Network
	rng   *rand.Rand
	nodes []*simNode
	seq   int
	cfg   func(*dht.Config)
}

type simNode struct {
	*dht.Node
	addr   netip.AddrPort
	conn   *dhttest.Conn
	cancel context.CancelFunc
	done   chan error
}

// newCluster must be called inside the bubble: its cleanup stops every node, also when a
// check fails half-way.
func newCluster(t *testing.T, seed uint64) *cluster {
	c := &cluster{t: t, net: dhttest.NewNetwork(seed, 5*time.Millisecond, 50*time.Millisecond), rng: rand.New(rand.NewPCG(seed, 1))}
	t.Cleanup(func() {
		for _, n := range c.nodes {
			n.cancel()
			<-n.done
		}
	})
	return c
}

// publicAddr returns the i-th address in 11.0.0.0/8, a public (routable) block, so the
// address rules and per-IP quotas apply as on the internet.
func publicAddr(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{11, byte(i >> 16), byte(i >> 8), byte(i)}), 6881)
}

func (c *cluster) start(boot ...netip.AddrPort) *simNode {
	c.seq++
	addr := publicAddr(c.seq)
	conn, err := c.net.Listen(addr)
	require.NoError(c.t, err)
	cfg := dht.Config{
		Conn: conn, Bootstrap: boot, Rand: rand.New(rand.NewPCG(c.rng.Uint64(), uint64(c.seq))),
		Logger: discard,
	}
	if c.cfg != nil {
		c.cfg(&cfg)
	}
	n, err := dht.New(cfg)
	require.NoError(c.t, err)
	ctx, cancel := context.WithCancel(context.Background())
	sn := &simNode{Node: n, addr: addr, conn: conn, cancel: cancel, done: make(chan error, 1)}
	go func() { sn.done <- n.Run(ctx) }()
	c.nodes = append(c.nodes, sn)
	return sn
}

func (c *cluster) stop(sn *simNode) {
	c.nodes = slices.DeleteFunc(c.nodes, func(x *simNode) bool { return x == sn })
	sn.cancel()
	assert.NoError(c.t, <-sn.done)
	assert.NoError(c.t, sn.conn.Close())
}

func (c *cluster) stopAll() {
	for len(c.nodes) > 0 {
		c.stop(c.nodes[len(c.nodes)-1])
	}
}

func (c *cluster) random() *simNode { return c.nodes[c.rng.IntN(len(c.nodes))] }

// grow starts n nodes bootstrapped from boot, one every 10 ms, then lets them settle.
func (c *cluster) grow(n int, boot netip.AddrPort) {
	for range n {
		c.start(boot)
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(2 * time.Minute)
}

type simPhase struct {
	name  string
	loss  float64
	churn float64 // fraction of the nodes replaced while the lookups run
}

// TestSimulation1000 is the must-show: 1,000 nodes bootstrapped from one, 20
// info-hashes announced, then 100 lookups from random nodes per phase must all find the
// announcing peer: on a clean network, with 10% packet loss, and with 10% loss while 20% of
// the nodes are replaced (the new ones bootstrap from random live nodes). It logs the
// queries per lookup and the lookup time distribution (docs/benchmarks.md). The phases share
// one network because bootstrapping 1,000 nodes is most of the cost.
func TestSimulation1000(t *testing.T) {
	const size, hashes, lookups = 1000, 20, 100
	bound := 3*math.Log2(size) + 8
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 42)
		boot := c.start()
		c.grow(size-1, boot.addr)
		ctx := context.Background()

		want := map[metainfo.Hash]netip.AddrPort{}
		var ihs []metainfo.Hash
		for i := range hashes {
			var ih metainfo.Hash
			ih[0], ih[1], ih[19] = byte(i), 0xd4, 0x7
			a := c.random()
			port := uint16(7000 + i)
			res, err := a.Announce(ctx, ih, port)
			require.NoError(t, err)
			require.Positive(t, res.Stored, "announce stored nowhere")
			want[ih] = netip.AddrPortFrom(a.addr.Addr(), port)
			ihs = append(ihs, ih)
		}
		for _, ph := range []simPhase{
			{name: "clean"},
			{name: "loss10", loss: 0.10},
			{name: "loss10_churn20", loss: 0.10, churn: 0.20},
		} {
			c.net.SetLoss(ph.loss)
			sent0, dropped0 := c.net.Counts()
			replace := int(ph.churn * size)
			var queries []int
			var times []time.Duration
			for i := range lookups {
				if replace > 0 && i%10 == 0 {
					// Stop first, then bootstrap the newcomers from survivors that were
					// there before: a newcomer whose only contact is stopped the same instant
					// knows nobody, and a lookup from it fails as it would anywhere. The
					// pause lets the newcomers bootstrap (a few timeouts under loss) before
					// one of them may be picked to look up; the stopped nodes stay in the
					// others' tables, which is the churn the lookups must get through.
					for range replace / 10 {
						c.stop(c.random())
					}
					old := slices.Clone(c.nodes)
					for range replace / 10 {
						c.start(old[c.rng.IntN(len(old))].addr)
					}
					time.Sleep(30 * time.Second)
				}
				ih := ihs[i%hashes]
				from := c.random()
				start := time.Now()
				res, err := from.GetPeers(ctx, ih)
				require.NoError(t, err, "%s: lookup %d from %s (seq node, table %d nodes, queries %d)", ph.name, i, from.addr, len(from.Nodes()), res.Queries)
				times = append(times, time.Since(start))
				queries = append(queries, res.Queries)
				assert.Contains(t, res.Peers, want[ih], "%s: lookup %d for %s from %s", ph.name, i, ih, from.addr)
			}
			sent, dropped := c.net.Counts()
			t.Logf("%s: %d nodes, %d lookups: queries/lookup %s (bound %.1f); time %s; packets %d sent, %d dropped",
				ph.name, size, lookups, intStats(queries), bound, durStats(times), sent-sent0, dropped-dropped0)
			assert.LessOrEqual(t, mean(queries), bound, "%s: mean queries per lookup", ph.name)
		}
		c.stopAll()
	})
}

func mean(v []int) float64 {
	s := 0
	for _, x := range v {
		s += x
	}
	return float64(s) / float64(len(v))
}

func intStats(v []int) string {
	s := slices.Clone(v)
	slices.Sort(s)
	return fmt.Sprintf("mean %.1f p50 %d p90 %d max %d", mean(s), s[len(s)/2], s[len(s)*9/10], s[len(s)-1])
}

func durStats(v []time.Duration) string {
	s := slices.Clone(v)
	slices.Sort(s)
	q := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return fmt.Sprintf("p50 %v p90 %v p99 %v max %v", q(.5), q(.9), q(.99), s[len(s)-1])
}
