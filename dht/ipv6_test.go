package dht_test

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/dht"
)

// TestIPv6Network: nodes on IPv6 addresses (BEP 32: "nodes6") bootstrap, announce and find
// each other.
func TestIPv6Network(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 9)
		var nodes []*simNode
		for i := range 40 {
			addr := netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb9, 15: byte(i + 1)}), 6881)
			conn, err := c.net.Listen(addr)
			require.NoError(t, err)
			cfg := dht.Config{Conn: conn, Logger: discard, Rand: rand.New(rand.NewPCG(uint64(i), 6))}
			if i > 0 {
				cfg.Bootstrap = []netip.AddrPort{nodes[0].addr}
			}
			n, err := dht.New(cfg)
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(context.Background())
			sn := &simNode{Node: n, addr: addr, conn: conn, cancel: cancel, done: make(chan error, 1)}
			go func() { sn.done <- n.Run(ctx) }()
			c.nodes = append(c.nodes, sn)
			nodes = append(nodes, sn)
		}
		ctx := context.Background()
		for range 2 { // let the tables fill
			_ = nodes[39].Bootstrap(ctx)
		}
		res, err := nodes[7].Announce(ctx, hash(6), 7000)
		require.NoError(t, err)
		assert.Positive(t, res.Stored)
		got, err := nodes[30].GetPeers(ctx, hash(6))
		require.NoError(t, err)
		assert.Contains(t, got.Peers, netip.AddrPortFrom(nodes[7].addr.Addr(), 7000))
		assert.Greater(t, nodes[30].Stats().Nodes, 5)
	})
}
