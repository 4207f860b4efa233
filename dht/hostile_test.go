package dht_test

import (
	"context"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/dht"
	"github.com/swarm-bt/swarm/dht/dhttest"
	"github.com/swarm-bt/swarm/metainfo"
)

func encode(t *testing.T, m *dht.Msg) []byte {
	b, err := dht.Encode(m)
	require.NoError(t, err)
	return b
}

func pingFrom(t *testing.T, tid string) []byte {
	return encode(t, &dht.Msg{T: tid, Y: "q", Q: "ping", A: &dht.Args{ID: strings.Repeat("f", 20)}})
}

// TestQueryFloodFromOneAddress: 10,000 queries in one instant from one address are answered
// at most up to the burst; then 100,000 spoofed sources cannot grow the limiter map past its
// cap, and the node still answers an honest ping.
func TestQueryFlood(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 5)
		c.cfg = func(cfg *dht.Config) { cfg.QueryRate, cfg.QueryBurst, cfg.MaxSources = 20, 40, 1000 }
		n := c.start()
		cl := newRaw(t, c, publicAddr(700))
		for range 10000 {
			cl.send(n.addr, pingFrom(t, "fl"))
		}
		time.Sleep(time.Second)
		answers := 0
		for cl.recv() != nil {
			answers++
		}
		st := n.Stats()
		assert.LessOrEqual(t, answers, 40+20*7, "burst plus what the rate allows over the reads")
		assert.LessOrEqual(t, st.QueriesIn, int64(40+20*7), "served")
		assert.Greater(t, st.Limited, int64(5000), "refused (the rest overflowed the socket queue)")

		var before runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range 100000 {
			from := netip.AddrPortFrom(netip.AddrFrom4([4]byte{12, byte(i >> 16), byte(i >> 8), byte(i)}), 1)
			c.net.Inject(from, n.addr, pingFrom(t, "sp"))
			if i%200 == 0 {
				time.Sleep(time.Millisecond) // let the node drain its queue
			}
		}
		time.Sleep(time.Second)
		assert.LessOrEqual(t, n.Stats().Sources, 1000)
		var after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&after)
		assert.Less(t, int64(after.HeapAlloc)-int64(before.HeapAlloc), int64(16<<20), "heap growth under a spoofed flood")

		time.Sleep(2 * time.Second)
		honest := newRaw(t, c, publicAddr(701))
		m := honest.query(n.addr, "ping", dht.Args{})
		require.NotNil(t, m, "an honest node is still served")
		assert.Equal(t, "r", m.Y)
	})
}

// TestAnnounceFloodStoreCapped: 50,000 announces for distinct info-hashes from 500 addresses,
// each with a valid token, leave at most MaxHashes info-hashes stored. (A million distinct
// info-hashes go through the store itself in TestPeerStoreMillionHashes.)
func TestAnnounceFloodStoreCapped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 6)
		c.cfg = func(cfg *dht.Config) {
			cfg.QueryRate, cfg.QueryBurst = 1e6, 1e6
			cfg.Store = dht.StoreConfig{MaxHashes: 1000, MaxPerHash: 10, MaxPeers: 5000}
		}
		n := c.start()
		cl := newRaw(t, c, publicAddr(800))
		tokens := map[netip.AddrPort]string{}
		for i := range 500 {
			from := netip.AddrPortFrom(netip.AddrFrom4([4]byte{13, 0, byte(i >> 8), byte(i)}), 6881)
			// Learn the token: ask as from, read the answer from the network by listening there.
			conn, err := c.net.Listen(from)
			require.NoError(t, err)
			r := &raw{t: t, conn: conn, id: strings.Repeat("g", 20)}
			m := r.query(n.addr, "get_peers", dht.Args{InfoHash: strings.Repeat("h", 20)})
			require.NotNil(t, m)
			tokens[from] = m.R.Token
			require.NoError(t, conn.Close())
		}
		i := 0
		for from, tok := range tokens {
			for range 100 {
				var h metainfo.Hash
				h[0], h[1], h[2] = byte(i), byte(i>>8), byte(i>>16)
				i++
				c.net.Inject(from, n.addr, encode(t, &dht.Msg{T: "an", Y: "q", Q: "announce_peer", A: &dht.Args{
					ID: strings.Repeat("g", 20), InfoHash: string(h[:]), Port: intp(7000), Token: tok,
				}}))
			}
			time.Sleep(time.Millisecond)
		}
		time.Sleep(time.Second)
		st := n.Stats()
		assert.Equal(t, 1000, st.InfoHashes)
		assert.LessOrEqual(t, st.Peers, 5001)
		_ = cl
	})
}

// TestMalformedAndOversizedPackets: garbage, truncated, wrong-typed and oversized packets
// are dropped and counted; none is answered and the node goes on serving.
func TestMalformedAndOversizedPackets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 7)
		n := c.start()
		cl := newRaw(t, c, publicAddr(600))
		bad := []string{
			"", "x", "d", "de", "le", "i42e",
			"d1:ad2:id20:abcdefghij0123", // truncated
			"d1:ad2:idi5ee1:q4:ping1:t2:aa1:y1:qe",
			"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qeTRAILING",
			"d1:t" + strings.Repeat("9", 30) + ":x1:y1:qe",
			"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:q1:x4000:" + strings.Repeat("z", 4000) + "e",
			strings.Repeat("l", 5000),
			"d1:rd2:id20:abcdefghij0123456789e1:t2:zz1:y1:re", // an answer to nothing we asked
		}
		for _, b := range bad {
			cl.send(n.addr, []byte(b))
		}
		assert.Nil(t, cl.recv(), "no answer to malformed packets")
		st := n.Stats()
		assert.Equal(t, int64(len(bad)-1), st.Malformed)
		assert.Equal(t, int64(1), st.Unexpected)
		m := cl.query(n.addr, "ping", dht.Args{})
		require.NotNil(t, m)
		assert.Equal(t, "r", m.Y)
	})
}

// attacker answers every query from K sockets on one IP, each claiming that the closest
// nodes to the target are K nodes on its own IP with ids next to the target.
func attacker(t *testing.T, c *cluster, ip netip.Addr, ctx context.Context) []netip.AddrPort {
	var addrs []netip.AddrPort
	for p := range dht.K {
		addrs = append(addrs, netip.AddrPortFrom(ip, uint16(9000+p)))
	}
	for i, a := range addrs {
		conn, err := c.net.Listen(a)
		require.NoError(t, err)
		context.AfterFunc(ctx, func() { _ = conn.Close() })
		go serveLies(conn, byte(i), addrs)
	}
	return addrs
}

func serveLies(conn *dhttest.Conn, me byte, addrs []netip.AddrPort) {
	buf := make([]byte, 4096)
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			return
		}
		m, err := dht.Decode(buf[:n])
		if err != nil || m.Y != "q" {
			continue
		}
		target := m.A.Target + m.A.InfoHash
		if len(target) != 20 {
			target = m.A.ID
		}
		var nodes []byte
		for i, a := range addrs {
			id := []byte(target)
			id[19] ^= byte(i + 1) // next to the target
			nodes = append(nodes, id...)
			nodes = append(nodes, a.Addr().AsSlice()...)
			nodes = append(nodes, byte(a.Port()>>8), byte(a.Port()))
		}
		id := []byte(target)
		id[19] ^= me + 1
		resp, _ := dht.Encode(&dht.Msg{T: m.T, Y: "r", R: &dht.Return{ID: string(id), Nodes: string(nodes), Token: "tok"}})
		_, _ = conn.WriteTo(resp, from)
	}
}

// TestPoisoningLimitedPerAddress: an attacker answering from 8 ports of one IP that every
// target's closest nodes are its own cannot take over lookups (the peer is still found) nor
// tables (at most one slot per public IP).
func TestPoisoningLimitedPerAddress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 8)
		boot := c.start()
		c.grow(60, boot.addr)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		evil := netip.AddrFrom4([4]byte{66, 6, 6, 6})
		lies := attacker(t, c, evil, ctx)
		for _, n := range c.nodes {
			for _, a := range lies {
				n.AddNode(a) // every node meets every lying socket
			}
		}
		time.Sleep(time.Minute)
		seeder, leecher := c.nodes[10], c.nodes[40]
		_, err := seeder.Announce(ctx, hash(9), 7000)
		require.NoError(t, err)
		for range 3 {
			res, err := leecher.GetPeers(ctx, hash(9))
			require.NoError(t, err)
			assert.Contains(t, res.Peers, netip.AddrPortFrom(seeder.addr.Addr(), 7000))
			evilInClosest := 0
			for _, ni := range res.Closest {
				if ni.Addr.Addr() == evil {
					evilInClosest++
				}
			}
			assert.LessOrEqual(t, evilInClosest, 1)
		}
		holders := 0
		for _, n := range c.nodes {
			evilSlots := 0
			for _, ni := range n.Nodes() {
				if ni.Addr.Addr() == evil {
					evilSlots++
				}
			}
			assert.LessOrEqual(t, evilSlots, 1, "node %s", n.addr)
			holders += evilSlots
		}
		assert.Positive(t, holders, "the attacker answers pings, so tables do take one of its sockets")
	})
}

var _ = net.ErrClosed

// TestLookupBoundedAgainstSybils: 400 answering sockets on distinct IPs, each naming the next
// one with an id closer to the target, cannot keep a lookup going: it asks at most 100 nodes
// and returns.
func TestLookupBoundedAgainstSybils(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 10)
		victim := c.start()
		target := hash(0x77)
		const sybils = 400
		addrs := make([]netip.AddrPort, sybils)
		for i := range addrs {
			addrs[i] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{14, 0, byte(i >> 8), byte(i)}), 6881)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		for i, a := range addrs {
			conn, err := c.net.Listen(a)
			require.NoError(t, err)
			context.AfterFunc(ctx, func() { _ = conn.Close() })
			go serveSybil(conn, i, target, addrs)
		}
		victim.AddNode(addrs[0])
		time.Sleep(time.Second)
		res, err := victim.GetPeers(ctx, target)
		require.NoError(t, err)
		assert.LessOrEqual(t, res.Queries, 2*100, "asked at most 100 nodes (retries included)")
	})
}

// serveSybil answers as sybil i with sybil i+1, which claims an id one step closer to target.
func serveSybil(conn *dhttest.Conn, i int, target metainfo.Hash, addrs []netip.AddrPort) {
	buf := make([]byte, 4096)
	idAt := func(k int) string {
		id := target
		d := 0xffff - k // the distance shrinks as k grows
		id[10] ^= byte(d >> 8)
		id[11] ^= byte(d)
		return string(id[:])
	}
	for {
		n, from, err := conn.ReadFrom(buf)
		if err != nil {
			return
		}
		m, err := dht.Decode(buf[:n])
		if err != nil || m.Y != "q" {
			continue
		}
		var nodes []byte
		for k := i + 1; k <= i+1 && k < len(addrs); k++ {
			nodes = append(nodes, idAt(k)...)
			nodes = append(nodes, addrs[k].Addr().AsSlice()...)
			nodes = append(nodes, byte(addrs[k].Port()>>8), byte(addrs[k].Port()))
		}
		resp, _ := dht.Encode(&dht.Msg{T: m.T, Y: "r", R: &dht.Return{ID: idAt(i), Nodes: string(nodes), Token: "tok"}})
		_, _ = conn.WriteTo(resp, from)
	}
}
