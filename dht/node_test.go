package dht_test

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/dht"
	"github.com/swarm-bt/swarm/dht/dhttest"
	"github.com/swarm-bt/swarm/metainfo"
)

// raw is a hand-driven KRPC endpoint on the in-memory network.
type raw struct {
	t    *testing.T
	conn *dhttest.Conn
	id   string
}

func newRaw(t *testing.T, c *cluster, addr netip.AddrPort) *raw {
	conn, err := c.net.Listen(addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return &raw{t: t, conn: conn, id: "rawrawrawrawrawrawra"}
}

func (r *raw) send(to netip.AddrPort, b []byte) {
	_, err := r.conn.WriteTo(b, net.UDPAddrFromAddrPort(to))
	require.NoError(r.t, err)
}

// recv returns the next answer, or nil if none comes within 5 s. Queries to us (the node
// pings those that query it) are ignored.
func (r *raw) recv() *dht.Msg {
	require.NoError(r.t, r.conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	buf := make([]byte, 4096)
	for {
		n, _, err := r.conn.ReadFrom(buf)
		if err != nil {
			return nil
		}
		m, err := dht.Decode(buf[:n])
		require.NoError(r.t, err)
		if m.Y != "q" {
			return m
		}
	}
}

func (r *raw) query(to netip.AddrPort, q string, a dht.Args) *dht.Msg {
	a.ID = r.id
	b, err := dht.Encode(&dht.Msg{T: "tx", Y: "q", Q: q, A: &a})
	require.NoError(r.t, err)
	r.send(to, b)
	return r.recv()
}

func hash(b byte) metainfo.Hash { return metainfo.Hash{b, 0xaa, 0x55} }

func ih(h metainfo.Hash) string { return string(h[:]) }

func TestServeQueries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 1)
		n := c.start()
		cl := newRaw(t, c, publicAddr(500))

		m := cl.query(n.addr, "ping", dht.Args{})
		require.NotNil(t, m)
		assert.Equal(t, "r", m.Y)
		assert.Equal(t, "tx", m.T)
		nid := n.ID()
		assert.Equal(t, string(nid[:]), m.R.ID)
		assert.Equal(t, "SW01", m.V)
		assert.Len(t, m.IP, 6, "BEP 42 ip of the asker")

		m = cl.query(n.addr, "get_peers", dht.Args{InfoHash: ih(hash(1))})
		require.NotNil(t, m)
		require.Equal(t, "r", m.Y)
		token := m.R.Token
		require.NotEmpty(t, token)
		assert.Empty(t, m.R.Values)

		tests := []struct {
			name string
			q    string
			a    dht.Args
			code int // 0 = success
		}{
			{"unknown method", "vote", dht.Args{}, dht.ErrCodeMethod},
			{"find_node without target", "find_node", dht.Args{}, dht.ErrCodeProtocol},
			{"get_peers without info_hash", "get_peers", dht.Args{}, dht.ErrCodeProtocol},
			{"announce with wrong token", "announce_peer", dht.Args{InfoHash: ih(hash(1)), Port: intp(7000), Token: "xxxxxxxx"}, dht.ErrCodeProtocol},
			{"announce without token", "announce_peer", dht.Args{InfoHash: ih(hash(1)), Port: intp(7000)}, dht.ErrCodeProtocol},
			{"announce with port 0", "announce_peer", dht.Args{InfoHash: ih(hash(1)), Port: intp(0), Token: token}, dht.ErrCodeProtocol},
			{"announce without port", "announce_peer", dht.Args{InfoHash: ih(hash(1)), Token: token}, dht.ErrCodeProtocol},
			{"announce for another hash is fine", "announce_peer", dht.Args{InfoHash: ih(hash(2)), Port: intp(7002), Token: token}, 0},
			{"announce", "announce_peer", dht.Args{InfoHash: ih(hash(1)), Port: intp(7000), Token: token}, 0},
			{"announce implied port", "announce_peer", dht.Args{InfoHash: ih(hash(3)), Port: intp(1), ImpliedPort: 1, Token: token}, 0},
			{"find_node", "find_node", dht.Args{Target: ih(hash(9))}, 0},
		}
		for _, tc := range tests {
			m := cl.query(n.addr, tc.q, tc.a)
			require.NotNil(t, m, tc.name)
			if tc.code != 0 {
				require.Equal(t, "e", m.Y, tc.name)
				assert.Equal(t, tc.code, m.E.Code, tc.name)
			} else {
				assert.Equal(t, "r", m.Y, tc.name)
			}
		}
		m = cl.query(n.addr, "get_peers", dht.Args{InfoHash: ih(hash(1))})
		require.NotNil(t, m)
		assert.Equal(t, []string{compact(netip.AddrPortFrom(publicAddr(500).Addr(), 7000))}, m.R.Values)
		m = cl.query(n.addr, "get_peers", dht.Args{InfoHash: ih(hash(3))})
		require.NotNil(t, m)
		assert.Equal(t, []string{compact(publicAddr(500))}, m.R.Values, "implied_port uses the source port")

		// The token of another address is refused.
		other := newRaw(t, c, publicAddr(501))
		m = other.query(n.addr, "announce_peer", dht.Args{InfoHash: ih(hash(1)), Port: intp(7001), Token: token})
		require.NotNil(t, m)
		assert.Equal(t, dht.ErrCodeProtocol, m.E.Code)

		// A token expires after two rotations (5 to 10 minutes).
		time.Sleep(6 * time.Minute)
		m = cl.query(n.addr, "announce_peer", dht.Args{InfoHash: ih(hash(4)), Port: intp(7000), Token: token})
		require.NotNil(t, m)
		assert.Equal(t, "r", m.Y, "previous secret still accepted")
		time.Sleep(5 * time.Minute)
		m = cl.query(n.addr, "announce_peer", dht.Args{InfoHash: ih(hash(4)), Port: intp(7000), Token: token})
		require.NotNil(t, m)
		require.Equal(t, "e", m.Y, "expired token")
		assert.Equal(t, dht.ErrCodeProtocol, m.E.Code)

		// Peers expire after 30 minutes.
		assert.Equal(t, 4, n.Stats().Peers)
		time.Sleep(31 * time.Minute)
		assert.Equal(t, 0, n.Stats().Peers)
		c.stopAll()
	})
}

func intp(i int) *int { return &i }

func compact(ap netip.AddrPort) string {
	b := ap.Addr().AsSlice()
	return string(append(b, byte(ap.Port()>>8), byte(ap.Port())))
}

func TestLookupAnnounceSmall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 2)
		boot := c.start()
		c.grow(30, boot.addr)
		ctx := context.Background()
		seeder, leecher := c.nodes[5], c.nodes[20]
		res, err := seeder.Announce(ctx, hash(7), 0)
		require.NoError(t, err)
		assert.Equal(t, dht.K, res.Stored)
		got, err := leecher.GetPeers(ctx, hash(7))
		require.NoError(t, err)
		assert.Equal(t, []netip.AddrPort{seeder.addr}, got.Peers, "implied port: the DHT port")
		assert.Len(t, got.Closest, dht.K)
		none, err := leecher.GetPeers(ctx, hash(8))
		require.NoError(t, err)
		assert.Empty(t, none.Peers)
		c.stopAll()
	})
}

func TestRestartFromSavedTableNeedsNoBootstrap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3)
		boot := c.start()
		c.grow(40, boot.addr)
		ctx := context.Background()
		announcer := c.nodes[3]
		_, err := announcer.Announce(ctx, hash(1), 7000)
		require.NoError(t, err)
		old := c.nodes[10]
		st := old.State()
		require.Greater(t, len(st.Nodes), dht.K)
		b, err := dht.MarshalState(st)
		require.NoError(t, err)
		c.stop(old)
		c.stop(boot) // the bootstrap node is gone too
		loaded, err := dht.UnmarshalState(b)
		require.NoError(t, err)
		c.cfg = func(cfg *dht.Config) { cfg.ID, cfg.Nodes = loaded.ID, loaded.Nodes }
		again := c.start()
		c.cfg = nil
		assert.Equal(t, st.ID, again.ID())
		res, err := again.GetPeers(ctx, hash(1))
		require.NoError(t, err)
		assert.Contains(t, res.Peers, netip.AddrPortFrom(announcer.addr.Addr(), 7000))
		c.stopAll()
	})
}

func TestReadOnlyNode(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 4)
		boot := c.start()
		c.grow(20, boot.addr)
		c.cfg = func(cfg *dht.Config) { cfg.ReadOnly = true }
		ro := c.start(boot.addr)
		c.cfg = nil
		time.Sleep(time.Minute)
		ctx := context.Background()
		_, err := c.nodes[2].Announce(ctx, hash(5), 7000)
		require.NoError(t, err)
		res, err := ro.GetPeers(ctx, hash(5))
		require.NoError(t, err, "a read-only node can look up")
		assert.Contains(t, res.Peers, netip.AddrPortFrom(c.nodes[2].addr.Addr(), 7000))
		for _, n := range c.nodes {
			if n == ro {
				continue
			}
			for _, ni := range n.Nodes() {
				assert.NotEqual(t, ro.addr, ni.Addr, "BEP 43: read-only nodes stay out of tables")
			}
		}
		cl := newRaw(t, c, publicAddr(900))
		assert.Nil(t, cl.query(ro.addr, "ping", dht.Args{}), "read-only nodes do not answer")
		c.stopAll()
	})
}
