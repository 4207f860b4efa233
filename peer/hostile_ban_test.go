package peer_test

import (
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer/peertest"
	"github.com/swarm-bt/swarm/peer/wire"
)

// Attacks on the ban policy (issue 19): framing an honest seeder by presenting its peer ID,
// and evading a ban with fresh peer IDs. docs/reliability.md lists them.

// dialAs connects to the engine at to from ip, presenting peer ID id, and shakes hands.
func dialAs(t *testing.T, nw *peertest.Network, tor *peertest.Torrent, to netip.AddrPort, ip netip.Addr, id [20]byte) *hostilePeer {
	t.Helper()
	nc, err := nw.DialFrom(ip)(t.Context(), "tcp", to.String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = nc.Close() })
	h := newHostile(tor, nc, 0)
	h.id = id
	require.NoError(t, wire.WriteHandshake(h.nc, wire.Handshake{InfoHash: tor.InfoHash, PeerID: h.id}))
	_, err = wire.ReadHandshake(h.nc)
	require.NoError(t, err)
	return h
}

// corrupt offers every piece and answers requests with garbage until the engine hangs up.
func (h *hostilePeer) corrupt(t *testing.T) int {
	t.Helper()
	require.NoError(t, h.send(bitfieldMsg(fullHave(h.tor)), wire.Message{ID: wire.Unchoke}))
	return h.serve(garbage)
}

func TestHostileFramingWithTheSeedersPeerIDBansOnlyTheFramer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tor := hostileTorrent(t, 11)
		hs := newHonestSwarm(t, tor, 0)
		hs.seeder = hNode(t, hs.nw, tor, peertest.Options{Seed: true, Configure: configure(seeded(2))})
		// The attacker read the seeder's ID from one handshake and serves garbage under it,
		// from its own address.
		framer := dialAs(t, hs.nw, tor, hs.leecher.Addr, hostileIP(1), hs.seeder.Swarm.PeerID())
		assert.Positive(t, framer.corrupt(t))
		synctest.Wait()
		require.NotEmpty(t, hs.logs.find("peer banned", "sent corrupt data"), hs.logs.dump())

		// The real seeder, same ID from another address, is welcome and serves the torrent.
		hs.leecher.Swarm.AddPeers(hs.seeder.Addr)
		hs.finish(t)
		hs.onlySeederConnected(t)
	})
}

func TestHostileBanEvasionWithFreshPeerIDsIsRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tor := hostileTorrent(t, 12)
		hs := newHonestSwarm(t, tor, 0)
		ip := hostileIP(9)
		first := dialAs(t, hs.nw, tor, hs.leecher.Addr, ip, hostileID(1))
		assert.Positive(t, first.corrupt(t))
		synctest.Wait()
		wasted := hs.leecher.Swarm.Stats().Wasted
		require.Positive(t, wasted)

		// The same address with fresh IDs: refused after the handshake, whatever the ID, so
		// not one more garbage block is taken.
		for n := byte(2); n < 6; n++ {
			again := dialAs(t, hs.nw, tor, hs.leecher.Addr, ip, hostileID(n))
			_ = again.send(bitfieldMsg(fullHave(tor)), wire.Message{ID: wire.Unchoke})
			_, err := again.awaitClosed(5 * time.Second)
			require.NoError(t, err, "fresh ID %d from a banned address must be refused", n)
		}
		assert.Equal(t, wasted, hs.leecher.Swarm.Stats().Wasted)

		// Another address is not tarred with it.
		hs.addSeeder(t, 0)
		hs.finish(t)
	})
}
