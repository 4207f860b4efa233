package peer_test

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/peertest"
)

// listAnnouncer answers every announce with the same peers, asking for announces every
// second, as a tracker that lists the asking peer back does.
type listAnnouncer struct{ peers []netip.AddrPort }

func (a listAnnouncer) Announce(context.Context, peer.AnnounceRequest) (peer.AnnounceResponse, error) {
	return peer.AnnounceResponse{Peers: a.peers, Interval: time.Second}, nil
}

// A peer list holding our own address is dialled at most once: not at all for the listen
// address, once for another address that reaches us (here an alias that the network maps to
// our listener, as a NAT's public address would be), and never again by any torrent.
func TestSelfAddressDialledAtMostOnce(t *testing.T) {
	a, err := peertest.NewTorrent("a.bin", 256<<10, 32<<10, 31)
	require.NoError(t, err)
	b, err := peertest.NewTorrent("b.bin", 256<<10, 32<<10, 32)
	require.NoError(t, err)
	synctest.Test(t, func(t *testing.T) {
		nw := peertest.NewNetwork()
		ln := nw.Listen(netip.AddrFrom4([4]byte{127, 0, 0, 1}))
		own := netipAddr(t, ln.Addr())
		alias := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 9, 9, 9}), own.Port())
		var mu sync.Mutex
		dials := map[netip.AddrPort]int{}
		dialer := func(ctx context.Context, network, addr string) (net.Conn, error) {
			ap := netip.MustParseAddrPort(addr)
			mu.Lock()
			dials[ap]++
			mu.Unlock()
			if ap == alias {
				addr = own.String()
			}
			return nw.Dial(ctx, network, addr)
		}
		s := startSession(t, nw, peer.SessionConfig{Listener: ln, Dialer: dialer})
		ann := listAnnouncer{peers: []netip.AddrPort{own, alias}}
		seedIn(t, s, a, func(c *peer.Config) { c.Announcer = ann })
		time.Sleep(2 * time.Minute)
		seedIn(t, s, b, func(c *peer.Config) { c.Announcer = ann })
		time.Sleep(3 * time.Minute)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		assert.Zero(t, dials[own], "our listen address is never dialled")
		assert.Equal(t, 1, dials[alias], "an address found to be ours is dialled once, by one torrent")
	})
}
