package peer_test

import (
	"net/netip"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/peertest"
	"github.com/swarm-bt/swarm/peer/wire"
)

// TestDHTPortMessage: with a DHT port, the session sets the DHT bit, sends the port message
// (BEP 5) to a peer that set it too, and reports the peer's own port message; a private
// torrent does neither.
func TestDHTPortMessage(t *testing.T) {
	for _, private := range []bool{false, true} {
		t.Run(map[bool]string{false: "public", true: "private"}[private], func(t *testing.T) {
			tor, err := peertest.NewTorrent("dht.bin", 64<<10, 16<<10, 1)
			require.NoError(t, err)
			tor.Info.Private = private
			synctest.Test(t, func(t *testing.T) {
				nw := peertest.NewNetwork()
				got := make(chan netip.AddrPort, 1)
				s := startSession(t, nw, peer.SessionConfig{DHTPort: 7777, OnDHTPort: func(ap netip.AddrPort) { got <- ap }})
				seedIn(t, s, tor, nil)
				c, err := nw.Dial(t.Context(), "tcp", s.addr.String())
				require.NoError(t, err)
				defer c.Close()
				ours := wire.Reserved{}.Set(wire.DHTByte, wire.DHTBit)
				require.NoError(t, wire.WriteHandshake(c, wire.Handshake{Reserved: ours, InfoHash: tor.InfoHash, PeerID: rawID("dht")}))
				hs, err := wire.ReadHandshake(c)
				require.NoError(t, err)
				assert.True(t, hs.Reserved.Has(wire.DHTByte, wire.DHTBit), "DHT bit set")
				_, err = c.Write(wire.AppendMessage(nil, wire.Message{ID: wire.Port, Port: 9999}))
				require.NoError(t, err)
				_, err = c.Write(wire.AppendMessage(nil, wire.Message{ID: wire.Interested}))
				require.NoError(t, err)
				r := wire.NewReader(c, wire.Limits{NumPieces: tor.Info.NumPieces()})
				port := uint16(0)
				for { // until the unchoke that answers our interest: the port message comes first
					m, err := r.ReadMessage()
					require.NoError(t, err)
					if m.ID == wire.Port {
						port = m.Port
					}
					if m.ID == wire.Unchoke {
						break
					}
				}
				if private {
					assert.Zero(t, port, "no port message for a private torrent")
					select {
					case ap := <-got:
						t.Fatalf("private torrent reported %v", ap)
					default:
					}
					return
				}
				assert.Equal(t, uint16(7777), port)
				ap := <-got
				assert.Equal(t, uint16(9999), ap.Port())
			})
		})
	}
}
