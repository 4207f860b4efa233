package peer_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/mse"
	"github.com/swarm-bt/swarm/peer/peertest"
	"github.com/swarm-bt/swarm/peer/wire"
)

// manyFilesTorrent has metadata of several ut_metadata pieces (about 50 KiB).
func manyFilesTorrent(t *testing.T) *peertest.Torrent {
	t.Helper()
	var files []peertest.File
	for i := range 1200 {
		files = append(files, peertest.File{Path: fmt.Sprintf("dir%02d/file-with-a-long-name-%04d.dat", i%40, i), Size: int64(1 + i%7)})
	}
	tor, err := peertest.NewMultiFileTorrent(t.TempDir(), "many", files, 16<<10, 5)
	require.NoError(t, err)
	require.Greater(t, len(tor.Meta.InfoBytes), 2*wire.MetadataPieceSize)
	return tor
}

func fetch(ctx context.Context, nw *peertest.Network, tor *peertest.Torrent, logs *recorder, addrs ...netip.AddrPort) ([]byte, []netip.AddrPort, error) {
	return peer.FetchMetadata(ctx, peer.MetadataConfig{
		InfoHash: tor.InfoHash, Peers: addrs, Dialer: nw.Dial, Logger: logs.logger(),
		Timeouts: peer.Timeouts{Request: 5 * time.Second, RedialMin: time.Second, RedialMax: 5 * time.Second},
	})
}

func TestFetchMetadataFromSeveralSeeders(t *testing.T) {
	tor := manyFilesTorrent(t)
	synctest.Test(t, func(t *testing.T) {
		nw := peertest.NewNetwork()
		s1 := hNode(t, nw, tor, peertest.Options{Seed: true})
		s2 := hNode(t, nw, tor, peertest.Options{Seed: true})
		logs := newRecorder()
		info, offered, err := fetch(t.Context(), nw, tor, logs, s1.Addr, s2.Addr)
		require.NoError(t, err)
		assert.Equal(t, tor.Meta.InfoBytes, info)
		assert.NotEmpty(t, offered)
		assert.Subset(t, []netip.AddrPort{s1.Addr, s2.Addr}, offered)
	})
}

// TestFetchMetadataHostile: a liar, a silent peer and one announcing 2^40 bytes, each beside
// an honest peer: the metadata still arrives, verified, and the bad peer is named.
func TestFetchMetadataHostile(t *testing.T) {
	tor := manyFilesTorrent(t)
	tests := []struct {
		name string
		bad  metaBehaviour
		log  []string
	}{
		{"wrong hash", metaLiar, []string{"bad metadata", "does not match the info-hash"}},
		{"never answers", metaSilent, []string{"metadata request timed out"}},
		{"metadata_size 2^40", metaHuge, []string{"peer refused", "1099511627776 bytes, limit 67108864"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				nw := peertest.NewNetwork()
				bad := serveMetadata(t, nw, tor, tt.bad)
				honest := serveMetadata(t, nw, tor, metaLate) // the bad peer is met first
				logs := newRecorder()
				ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
				defer cancel()
				info, _, err := fetch(ctx, nw, tor, logs, bad, honest)
				require.NoError(t, err, logs.dump())
				assert.Equal(t, tor.Meta.InfoBytes, info)
				assert.NotEmpty(t, logs.find(tt.log...), logs.dump())
			})
		})
	}
}

func TestFetchMetadataOnlyHugePeer(t *testing.T) {
	tor := manyFilesTorrent(t)
	synctest.Test(t, func(t *testing.T) {
		nw := peertest.NewNetwork()
		logs := newRecorder()
		_, _, err := fetch(t.Context(), nw, tor, logs, serveMetadata(t, nw, tor, metaHuge))
		require.ErrorIs(t, err, peer.ErrNoMetadataPeers)
		assert.NotEmpty(t, logs.find("metadata_size over the cap"), logs.dump())
	})
}

// TestServeMetadata: a seeder answers the extension handshake with its metadata_size and
// serves every piece, rejects one out of range, and follows a second handshake's new ids.
func TestServeMetadata(t *testing.T) {
	tor := manyFilesTorrent(t)
	synctest.Test(t, func(t *testing.T) {
		nw := peertest.NewNetwork()
		seeder := hNode(t, nw, tor, peertest.Options{Seed: true})
		p := dialExt(t, nw, tor, seeder.Addr, rawID("meta"))
		p.expect(wire.HaveAll)
		p.sendExt(0, wire.ExtHandshake{M: map[string]int{wire.ExtMetadata: 5, wire.ExtPEX: 6}, V: "scripted 1.0"}.Marshal())
		hs, err := wire.ParseExtHandshake(p.expectExt(0))
		require.NoError(t, err)
		assert.Equal(t, int64(len(tor.Meta.InfoBytes)), hs.MetadataSize)
		assert.Equal(t, peer.ClientVersion, hs.V)
		assert.Equal(t, seeder.Addr.Port(), hs.Port)
		assert.Positive(t, hs.Reqq)
		assert.Equal(t, netip.MustParseAddr("127.0.0.1"), hs.YourIP)
		theirID := uint8(hs.M[wire.ExtMetadata])
		require.NotZero(t, theirID)
		require.NotZero(t, hs.M[wire.ExtPEX], "PEX on a public torrent")

		var got []byte
		for i := range wire.MetadataPieces(hs.MetadataSize) {
			extID := uint8(5)
			if i == 1 { // a second handshake moves ut_metadata to id 7 mid-transfer
				p.sendExt(0, wire.ExtHandshake{M: map[string]int{wire.ExtMetadata: 7}}.Marshal())
			}
			if i >= 1 {
				extID = 7
			}
			p.sendExt(theirID, wire.MetadataMsg{Type: wire.MetadataRequest, Piece: i}.Marshal())
			m, err := wire.ParseMetadataMsg(p.expectExt(extID))
			require.NoError(t, err)
			require.Equal(t, wire.MetadataData, m.Type)
			require.Equal(t, i, m.Piece)
			got = append(got, m.Data...)
		}
		assert.Equal(t, tor.Meta.InfoBytes, got)
		p.sendExt(theirID, wire.MetadataMsg{Type: wire.MetadataRequest, Piece: 99}.Marshal())
		m, err := wire.ParseMetadataMsg(p.expectExt(7))
		require.NoError(t, err)
		assert.Equal(t, wire.MetadataMsg{Type: wire.MetadataReject, Piece: 99}, m)
	})
}

// TestFastRejectsWhenChoked: a Fast peer gets have_all, a reject for a request while
// choked, and its allowed_fast pieces served while choked.
func TestFastRejectsWhenChoked(t *testing.T) {
	tor := hostileTorrent(t, 40)
	synctest.Test(t, func(t *testing.T) {
		nw := peertest.NewNetwork()
		seeder := hNode(t, nw, tor, peertest.Options{Seed: true})
		p := dialExt(t, nw, tor, seeder.Addr, rawID("fast"))
		p.expect(wire.HaveAll)
		allowed := map[uint32]bool{}
		want := wire.AllowedFastSet(netip.MustParseAddr("127.0.0.1"), tor.InfoHash, tor.Info.NumPieces(), 10)
		for range want {
			allowed[p.expect(wire.AllowedFast).Index] = true
		}
		for _, i := range want {
			assert.True(t, allowed[i], "allowed_fast %d as BEP 6 computes it", i)
		}
		notAllowed := uint32(0)
		for allowed[notAllowed] {
			notAllowed++
		}
		req := wire.Message{ID: wire.Request, Index: notAllowed, Begin: 0, Length: wire.BlockSize}
		p.send(req) // not interested, choked
		rej := p.expect(wire.RejectRequest)
		assert.Equal(t, req.Index, rej.Index)
		assert.Equal(t, req.Begin, rej.Begin)
		assert.Equal(t, req.Length, rej.Length)

		p.send(wire.Message{ID: wire.Request, Index: want[0], Begin: 0, Length: wire.BlockSize})
		piece := p.expect(wire.Piece)
		assert.Equal(t, want[0], piece.Index, "an allowed_fast piece is served while choked")
	})
}

// TestHostilePEX: PEX floods are closed, our own address and port 0 are never taken.
func TestHostilePEX(t *testing.T) {
	tor := hostileTorrent(t, 41)
	many := func(n int) []byte {
		var b []byte
		for i := range n {
			b = append(b, 10, byte(i>>16), byte(i>>8), byte(i), 0x1a, 0xe1)
		}
		return b
	}
	pexOf := func(added []byte) []byte {
		return []byte(fmt.Sprintf("d5:added%d:%s7:added.f%d:%se", len(added), added, len(added)/6, strings.Repeat("\x00", len(added)/6)))
	}
	tests := []struct {
		name   string
		script func(p *rawPeer, self netip.AddrPort)
		closed bool
		log    []string
	}{
		{"10,000 peers", func(p *rawPeer, _ netip.AddrPort) { p.trySendExt(1, pexOf(many(10000))) }, true, []string{"peer dropped", "exceeds the limit"}},
		{"300 peers", func(p *rawPeer, _ netip.AddrPort) { p.trySendExt(1, pexOf(many(300))) }, true, []string{"peer dropped", "pex: flood"}},
		{"too often", func(p *rawPeer, _ netip.AddrPort) {
			for range 6 {
				p.trySendExt(1, pexOf(many(1)))
			}
		}, true, []string{"peer dropped", "messages within"}},
		{"own address and port 0", func(p *rawPeer, self netip.AddrPort) {
			a4 := self.Addr().As4()
			own := []byte{a4[0], a4[1], a4[2], a4[3], byte(self.Port() >> 8), byte(self.Port())}
			p.trySendExt(1, pexOf(append(own, 10, 0, 0, 1, 0, 0)))
		}, false, []string{"pex received", "added=1", "new=0"}},
		{"extended message over the cap", func(p *rawPeer, _ netip.AddrPort) {
			p.trySendExt(1, make([]byte, wire.MaxExtendedLen+1))
		}, true, []string{"peer dropped", "exceeds the limit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				nw := peertest.NewNetwork()
				logs := newRecorder()
				node := hNode(t, nw, tor, peertest.Options{Logger: logs.logger()})
				p := dialExt(t, nw, tor, node.Addr, rawID("pex"))
				p.sendExt(0, wire.ExtHandshake{M: map[string]int{wire.ExtPEX: 2}}.Marshal())
				p.expectExt(0)
				go tt.script(p, node.Addr)
				if tt.closed {
					p.expectClosed()
				}
				time.Sleep(time.Second)
				synctest.Wait()
				assert.NotEmpty(t, logs.find(tt.log...), logs.dump())
				if !tt.closed {
					assert.Empty(t, logs.find("dial failed"), "nothing dialled")
				}
			})
		})
	}
}

// TestPEXIntroducesPeers: two leechers that only know the seeder learn about each other
// through its PEX, connect, and record the peer as from PEX.
func TestPEXIntroducesPeers(t *testing.T) {
	tor, err := peertest.NewTorrent("pex.bin", 4<<20, 32<<10, 42)
	require.NoError(t, err)
	synctest.Test(t, func(t *testing.T) {
		nw := peertest.NewNetwork()
		seeder := hNode(t, nw, tor, peertest.Options{Seed: true, Configure: configure(uploadLimit(128 << 10))})
		b := hNode(t, nw, tor, peertest.Options{})
		c := hNode(t, nw, tor, peertest.Options{})
		b.Swarm.AddPeers(seeder.Addr)
		c.Swarm.AddPeers(seeder.Addr)
		var viaPEX bool
		for range 120 {
			time.Sleep(time.Second)
			for _, n := range []*peertest.Node{b, c} {
				for _, p := range n.Swarm.Stats().Peers {
					if p.Source == peer.SourcePEX {
						viaPEX = true
					}
				}
			}
			if viaPEX {
				break
			}
		}
		require.True(t, viaPEX, "a leecher connected to a peer learnt through PEX: %+v %+v", b.Swarm.Stats().Peers, c.Swarm.Stats().Peers)
		for _, p := range seeder.Swarm.Stats().Peers {
			assert.Equal(t, peer.SourceIncoming, p.Source)
		}
	})
}

// TestFastChokeLeavesNoRequestHanging: a Fast seeder unchokes us, chokes with our requests
// outstanding (rejecting some, leaving the others unanswered), then unchokes again. After the
// unchoke every one of those blocks is asked again and the download
// completes: no request was left hanging on the choke. (net.Pipe has no buffer, so requests
// written before the engine read the choke arrive after it: they count as outstanding.)
func TestFastChokeLeavesNoRequestHanging(t *testing.T) {
	tor := hostileTorrent(t, 43)
	synctest.Test(t, func(t *testing.T) {
		nw := peertest.NewNetwork()
		// No request timeout to hide a hanging request behind.
		logs := newRecorder()
		leecher := hNode(t, nw, tor, peertest.Options{Logger: logs.logger(), Configure: configure(func(c *peer.Config) {
			c.Timeouts.Request = time.Hour
			c.Timeouts.Idle = time.Hour
		})})
		p := dialExt(t, nw, tor, leecher.Addr, rawID("choker"))
		p.send(wire.Message{ID: wire.HaveAll})
		p.expect(wire.Interested)
		p.send(wire.Message{ID: wire.Unchoke})
		var pending []wire.Message
		for len(pending) < 4 {
			pending = append(pending, p.expect(wire.Request))
		}
		p.send(wire.Message{ID: wire.Choke})
		for _, r := range pending[:2] { // reject some, leave the rest unanswered
			p.send(wire.Message{ID: wire.RejectRequest, Index: r.Index, Begin: r.Begin, Length: r.Length})
		}
		msgs := make(chan wire.Message, 1024)
		go func() {
			for {
				m, err := p.next()
				if err != nil {
					close(msgs)
					return
				}
				msgs <- m
			}
		}()
		time.Sleep(5 * time.Second)
		synctest.Wait()
	drain:
		for {
			select {
			case m := <-msgs: // requests the engine wrote before it read the choke
				if m.ID == wire.Request {
					pending = append(pending, m)
				}
			default:
				break drain
			}
		}
		st := leecher.Swarm.Stats()
		require.Len(t, st.Peers, 1)
		assert.Zero(t, st.Peers[0].Requests, "requests outstanding to a peer that choked us")
		p.send(wire.Message{ID: wire.Unchoke})
		synctest.Wait()
		// The log tells the same: every request outstanding at the choke withdrawn, the two
		// rejects counted, nothing asked while choked (no allowed_fast pieces).
		assert.NotEmpty(t, logs.find(`"choked by peer"`, "fast=true", "requests=0"), logs.dump())
		assert.NotEmpty(t, logs.find(`"unchoked by peer"`, fmt.Sprintf("withdrawn=%d rejected=2 late=0", len(pending)),
			"sent_while_choked=0 requests=0"), logs.dump())
		asked := map[[2]uint32]bool{}
		for !func() bool {
			select {
			case <-leecher.Swarm.Completed():
				return true
			default:
				return false
			}
		}() {
			m, ok := <-msgs
			require.True(t, ok, "connection closed before completion")
			if m.ID != wire.Request {
				continue
			}
			asked[[2]uint32{m.Index, m.Begin}] = true
			off := int64(m.Index)*tor.Info.PieceLength + int64(m.Begin)
			p.send(wire.Message{ID: wire.Piece, Index: m.Index, Begin: m.Begin, Block: tor.Payload[off : off+int64(m.Length)]})
			synctest.Wait()
		}
		for _, r := range pending {
			assert.True(t, asked[[2]uint32{r.Index, r.Begin}], "block %d+%d asked again after the unchoke", r.Index, r.Begin)
		}
		assert.NoError(t, tor.Compare(leecher.Storage))
	})
}

// TestSessionFetchMetadataEncrypted: a fetch run in a session follows its encryption policy,
// so a seeder that requires encryption gives its metadata to it, and refuses a plain fetch.
func TestSessionFetchMetadataEncrypted(t *testing.T) {
	tor := manyFilesTorrent(t)
	synctest.Test(t, func(t *testing.T) {
		nw := peertest.NewNetwork()
		seeder := hNode(t, nw, tor, peertest.Options{Seed: true, Configure: configure(func(c *peer.Config) { c.Encryption = mse.Require })})
		logs := newRecorder()
		s, err := peer.NewSession(peer.SessionConfig{Listener: nw.Listen(netip.MustParseAddr("127.0.0.5")), Dialer: nw.Dial,
			Encryption: mse.Require, Logger: logs.logger()})
		require.NoError(t, err)
		info, _, err := s.FetchMetadata(t.Context(), peer.MetadataConfig{InfoHash: tor.InfoHash, Peers: []netip.AddrPort{seeder.Addr}})
		require.NoError(t, err, logs.dump())
		assert.Equal(t, tor.Meta.InfoBytes, info)

		_, _, err = fetch(t.Context(), nw, tor, newRecorder(), seeder.Addr)
		require.ErrorIs(t, err, peer.ErrNoMetadataPeers, "a plain fetch is refused")
	})
}

// TestPrivateTorrentNoPEX: a private torrent (BEP 27) announces no ut_pex and ignores PEX a
// peer sends anyway.
func TestPrivateTorrentNoPEX(t *testing.T) {
	tor := hostileTorrent(t, 44)
	synctest.Test(t, func(t *testing.T) {
		nw := peertest.NewNetwork()
		logs := newRecorder()
		node := hNode(t, nw, tor, peertest.Options{Seed: true, Logger: logs.logger(), Configure: configure(func(c *peer.Config) {
			private := *c.Info
			private.Private = true
			c.Info = &private
		})})
		p := dialExt(t, nw, tor, node.Addr, rawID("private"))
		p.sendExt(0, wire.ExtHandshake{M: map[string]int{wire.ExtPEX: 2}}.Marshal())
		hs, err := wire.ParseExtHandshake(p.expectExt(0))
		require.NoError(t, err)
		assert.Zero(t, hs.M[wire.ExtPEX], "no ut_pex for a private torrent")
		assert.NotZero(t, hs.M[wire.ExtMetadata])
		p.sendExt(1, wire.PEX{Added: []wire.PEXPeer{{Addr: netip.MustParseAddrPort("10.0.0.1:6881")}}}.Marshal())
		time.Sleep(time.Second)
		synctest.Wait()
		assert.Empty(t, logs.find("pex received"), logs.dump())
		assert.Empty(t, logs.find("peer dropped"), logs.dump())
	})
}
