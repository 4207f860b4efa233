package peer_test

import (
	"net"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer/peertest"
	"github.com/swarm-bt/swarm/peer/wire"
)

// Slot exhaustion (issue 19): idle peers holding every slot of a seeder, silent connections
// holding every pending-handshake slot, and one address taking many connections.
// docs/reliability.md lists them.

// floodIP is the address of the n-th flooding connection: 256 addresses per /24 of 127.0.x.
func floodIP(n int) netip.Addr {
	return netip.AddrFrom4([4]byte{127, byte(2 + n/256), 0, byte(n % 256)})
}

// seederUnderAttack is a seeder with the default caps and an honest leecher that does not
// know it yet.
func seederUnderAttack(t *testing.T, seed uint64) (nw *peertest.Network, tor *peertest.Torrent, seeder, leecher *peertest.Node) {
	t.Helper()
	tor = hostileTorrent(t, seed)
	nw = peertest.NewNetwork()
	seeder = hNode(t, nw, tor, peertest.Options{Seed: true, Configure: configure(hostileTimeouts, seeded(2))})
	leecher = hNode(t, nw, tor, peertest.Options{Configure: configure(hostileTimeouts, seeded(1))})
	return nw, tor, seeder, leecher
}

// idle keeps h connected as a peer that is neither interested nor interesting: it reads
// and discards what the engine sends and sends keep-alives, until the connection ends.
func (h *hostilePeer) idle(wg *sync.WaitGroup) {
	wg.Go(func() {
		var buf [4096]byte
		for {
			if _, err := h.nc.Read(buf[:]); err != nil {
				return
			}
		}
	})
	wg.Go(func() {
		for h.sendRaw([]byte{0, 0, 0, 0}) == nil {
			time.Sleep(hIdle / 3) // within the engine's idle timeout
		}
	})
}

func TestHostileIdlePeersDoNotHoldEverySlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nw, tor, seeder, leecher := seederUnderAttack(t, 21)
		var wg sync.WaitGroup
		idlers := make([]*hostilePeer, 0, 50)
		for n := range 50 { // the seeder's 50 slots, each from its own address
			h := dialAs(t, nw, tor, seeder.Addr, floodIP(n), hostileID(byte(n)))
			h.idle(&wg)
			idlers = append(idlers, h)
		}
		synctest.Wait()
		require.Len(t, seeder.Swarm.Stats().Peers, 50, "the idle peers fill the seeder")

		t.Cleanup(func() {
			for _, h := range idlers {
				_ = h.nc.Close()
			}
			wg.Wait()
		})
		leecher.Swarm.AddPeers(seeder.Addr)
		awaitComplete(t, leecher, time.Minute)
		require.NoError(t, tor.Compare(leecher.Storage))

		// The first idle peer was evicted for the leecher; reconnecting at once, its
		// address is refused for a while (no churning the slots).
		again := dialAs(t, nw, tor, seeder.Addr, floodIP(0), hostileID(0))
		_, err := again.awaitClosed(time.Second)
		require.NoError(t, err, "an address evicted as idle a moment ago is refused")
	})
}

func TestHostileConnectFloodDoesNotBlockHandshakes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nw, _, seeder, leecher := seederUnderAttack(t, 22)
		// A raw connect flood at 400/s from 1,000 addresses: the sockets never send a byte.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			var open []net.Conn
			defer func() {
				for _, c := range open {
					_ = c.Close()
				}
			}()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				case <-time.After(time.Second / 400):
				}
				if c, err := nw.DialFrom(floodIP(n%1000))(t.Context(), "tcp", seeder.Addr.String()); err == nil {
					open = append(open, c)
				}
			}
		})
		time.Sleep(2 * time.Second) // the flood is in full swing
		t.Cleanup(func() {
			close(stop)
			wg.Wait()
		})
		leecher.Swarm.AddPeers(seeder.Addr)
		awaitComplete(t, leecher, 20*time.Second)
	})
}

func TestHostileOneAddressGetsFewConnections(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nw, tor, seeder, _ := seederUnderAttack(t, 23)
		ip := hostileIP(7)
		refused := 0
		for n := range 20 {
			nc, err := nw.DialFrom(ip)(t.Context(), "tcp", seeder.Addr.String())
			require.NoError(t, err)
			t.Cleanup(func() { _ = nc.Close() })
			h := newHostile(tor, nc, byte(n))
			_ = wire.WriteHandshake(nc, wire.Handshake{InfoHash: tor.InfoHash, PeerID: h.id})
			if _, err := h.awaitClosed(time.Second); err == nil {
				refused++
			}
		}
		assert.Equal(t, 20-8, refused, "8 connections (the default cap) from one address, no more")
	})
}
