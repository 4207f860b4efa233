package peer_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/peertest"
	"github.com/swarm-bt/swarm/peer/storage"
	"github.com/swarm-bt/swarm/peer/wire"
)

// testSession is a running Session on an in-memory network, stopped at cleanup.
type testSession struct {
	*peer.Session
	addr netip.AddrPort
	stop func()
}

func startSession(t *testing.T, nw *peertest.Network, cfg peer.SessionConfig) *testSession {
	t.Helper()
	if cfg.Listener == nil {
		cfg.Listener = nw.Listen(netip.AddrFrom4([4]byte{127, 0, 0, 1}))
	}
	if cfg.Dialer == nil {
		cfg.Dialer = nw.Dial
	}
	if cfg.Logger == nil {
		cfg.Logger = dbgLogger
	}
	s, err := peer.NewSession(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { assert.NoError(t, s.Run(ctx)) })
	ts := &testSession{Session: s, stop: func() { cancel(); wg.Wait() }}
	ts.addr = netipAddr(t, cfg.Listener.Addr())
	t.Cleanup(ts.stop)
	return ts
}

// seedIn adds tor to the session as a complete seed (in-memory storage).
func seedIn(t *testing.T, s *testSession, tor *peertest.Torrent, configure func(*peer.Config)) *peer.Swarm {
	t.Helper()
	st, err := tor.SeedStorage()
	require.NoError(t, err)
	cfg := peer.Config{Info: tor.Info, InfoHash: tor.InfoHash, Storage: st, Have: fullHave(tor), Logger: dbgLogger}
	fastTimeouts(&cfg)
	if configure != nil {
		configure(&cfg)
	}
	sw, err := s.Add(cfg)
	require.NoError(t, err)
	seedStorages[sw] = st
	return sw
}

// seedStorages remembers the storage seedIn gave each swarm (tests run one at a time in
// this package, so a plain map is enough).
var seedStorages = map[*peer.Swarm]storage.Storage{}

// leechFrom starts a standalone leecher of tor that dials addr.
func leechFrom(t *testing.T, nw *peertest.Network, tor *peertest.Torrent, addr netip.AddrPort, fs ...func(*peer.Config)) *peertest.Node {
	t.Helper()
	n := bubbleNode(t, nw, tor, peertest.Options{Configure: func(c *peer.Config) {
		fastTimeouts(c)
		for _, f := range fs {
			f(c)
		}
	}})
	n.Swarm.AddPeers(addr)
	return n
}

func downLimit(bps rate.Limit) func(*peer.Config) {
	return func(c *peer.Config) { c.DownloadLimiter = peer.NewLimiter(bps) }
}

// Two torrents behind one port: each leecher dials the same address and gets its own torrent.
func TestSessionTwoTorrentsOnePort(t *testing.T) {
	a, err := peertest.NewTorrent("a.bin", 1<<20+3, 32<<10, 11)
	require.NoError(t, err)
	b, err := peertest.NewTorrent("b.bin", 700<<10, 16<<10, 12)
	require.NoError(t, err)
	synctest.Test(t, func(t *testing.T) {
		nw := peertest.NewNetwork()
		s := startSession(t, nw, peer.SessionConfig{})
		seedIn(t, s, a, nil)
		seedIn(t, s, b, nil)
		la := leechFrom(t, nw, a, s.addr)
		lb := leechFrom(t, nw, b, s.addr)
		awaitComplete(t, la, time.Minute)
		awaitComplete(t, lb, time.Minute)
		assert.NoError(t, a.Compare(la.Storage))
		assert.NoError(t, b.Compare(lb.Storage))
		assert.Len(t, s.Swarms(), 2)
		assert.Equal(t, 2, s.Stats().Torrents)
	})
}

// Removing a torrent closes its connections and leaves the other torrent's transfer alone.
func TestSessionRemoveLeavesOtherTorrent(t *testing.T) {
	a, err := peertest.NewTorrent("a.bin", 2<<20, 32<<10, 13)
	require.NoError(t, err)
	b, err := peertest.NewTorrent("b.bin", 2<<20, 32<<10, 14)
	require.NoError(t, err)
	synctest.Test(t, func(t *testing.T) {
		nw := peertest.NewNetwork()
		s := startSession(t, nw, peer.SessionConfig{})
		swA := seedIn(t, s, a, nil)
		swB := seedIn(t, s, b, nil)
		la := leechFrom(t, nw, a, s.addr, downLimit(256<<10))
		lb := leechFrom(t, nw, b, s.addr, downLimit(256<<10))
		time.Sleep(3 * time.Second)
		synctest.Wait()
		stA, stB := la.Swarm.Stats(), lb.Swarm.Stats()
		require.Len(t, stA.Peers, 1)
		require.Len(t, stB.Peers, 1)
		require.Positive(t, stA.Downloaded)
		require.Positive(t, stB.Downloaded)
		require.Less(t, stB.Have, stB.NumPieces, "b must still be transferring")
		connB := stB.Peers[0].Addr

		require.NoError(t, s.Remove(a.InfoHash))
		select {
		case <-swA.Done():
		default:
			t.Fatal("a removed torrent's swarm must have stopped")
		}
		assert.Nil(t, s.Swarm(a.InfoHash))
		time.Sleep(time.Second) // the leecher's reader may be waiting for its rate limiter
		synctest.Wait()
		assert.Empty(t, la.Swarm.Stats().Peers, "a's leecher was disconnected")
		stB = lb.Swarm.Stats()
		require.Len(t, stB.Peers, 1, "b's leecher is still connected")
		assert.Equal(t, connB, stB.Peers[0].Addr, "on the same connection")

		awaitComplete(t, lb, 5*time.Minute)
		assert.NoError(t, b.Compare(lb.Storage))
		assert.Equal(t, b.Info.TotalLength(), swB.Stats().Uploaded, "b's leecher never reconnected to fetch again")
		assert.Less(t, la.Swarm.Stats().Have, a.Info.NumPieces())
		require.ErrorIs(t, s.Remove(a.InfoHash), peer.ErrUnknownTorrent)
	})
}

// A handshake for a torrent the session does not have is closed without an answer; one for
// a torrent it has is answered, on the same port.
func TestSessionUnknownInfoHashClosed(t *testing.T) {
	a, err := peertest.NewTorrent("a.bin", 64<<10, 16<<10, 15)
	require.NoError(t, err)
	synctest.Test(t, func(t *testing.T) {
		nw := peertest.NewNetwork()
		logs := newRecorder()
		s := startSession(t, nw, peer.SessionConfig{Logger: logs.logger()})
		seedIn(t, s, a, nil)
		for _, tc := range []struct {
			ih     metainfo.Hash
			answer bool
		}{{metainfo.Hash{0xde, 0xad}, false}, {a.InfoHash, true}} {
			nc, err := nw.Dial(t.Context(), "tcp", s.addr.String())
			require.NoError(t, err)
			go func() { _ = wire.WriteHandshake(nc, wire.Handshake{InfoHash: tc.ih, PeerID: hostileID(1)}) }()
			hs, err := wire.ReadHandshake(nc)
			if tc.answer {
				require.NoError(t, err)
				assert.Equal(t, [20]byte(a.InfoHash), hs.InfoHash)
				assert.Equal(t, s.PeerID(), hs.PeerID)
			} else {
				require.ErrorIs(t, err, io.EOF, "closed without an answer")
			}
			_ = nc.Close()
		}
		synctest.Wait()
		assert.NotEmpty(t, logs.find("incoming handshake failed", peer.ErrWrongInfoHash.Error()), logs.dump())
	})
}

// Anything that is not a plain handshake goes to the Incoming hook, which sees every byte.
func TestSessionIncomingHook(t *testing.T) {
	a, err := peertest.NewTorrent("a.bin", 64<<10, 16<<10, 16)
	require.NoError(t, err)
	synctest.Test(t, func(t *testing.T) {
		nw := peertest.NewNetwork()
		got := make(chan []byte, 1)
		hook := func(_ context.Context, nc net.Conn, ihs []metainfo.Hash) (net.Conn, error) {
			assert.Equal(t, []metainfo.Hash{a.InfoHash}, ihs)
			b := make([]byte, 5)
			_, err := io.ReadFull(nc, b)
			got <- b
			return nil, errors.Join(err, errors.New("not for us"))
		}
		s := startSession(t, nw, peer.SessionConfig{Incoming: hook})
		seedIn(t, s, a, nil)
		nc, err := nw.Dial(t.Context(), "tcp", s.addr.String())
		require.NoError(t, err)
		go func() { _, _ = nc.Write([]byte("\x13Bit?more bytes than twenty in all")) }()
		_, err = nc.Read(make([]byte, 1))
		require.Error(t, err, "the hook refused: closed")
		assert.Equal(t, []byte("\x13Bit?"), <-got)
	})
}

func TestSessionAddRemoveErrors(t *testing.T) {
	a, err := peertest.NewTorrent("a.bin", 64<<10, 16<<10, 17)
	require.NoError(t, err)
	synctest.Test(t, func(t *testing.T) {
		nw := peertest.NewNetwork()
		s := startSession(t, nw, peer.SessionConfig{})
		sw := seedIn(t, s, a, nil)
		st, err := a.SeedStorage()
		require.NoError(t, err)
		_, err = s.Add(peer.Config{Info: a.Info, InfoHash: a.InfoHash, Storage: st})
		require.ErrorIs(t, err, peer.ErrDuplicateTorrent)
		require.ErrorIs(t, sw.Run(t.Context()), peer.ErrInSession)
		require.ErrorIs(t, s.Remove(metainfo.Hash{1}), peer.ErrUnknownTorrent)
		s.stop()
		_, err = s.Add(peer.Config{Info: a.Info, InfoHash: metainfo.Hash{2}, Storage: st})
		require.ErrorIs(t, err, peer.ErrSessionClosed)
		<-sw.Done()
		require.NoError(t, sw.Err())
	})
}

// The session's connection cap holds across torrents, and a removed torrent gives its slots
// back.
func TestSessionConnectionCap(t *testing.T) {
	a, err := peertest.NewTorrent("a.bin", 1<<20, 32<<10, 18)
	require.NoError(t, err)
	b, err := peertest.NewTorrent("b.bin", 1<<20, 32<<10, 19)
	require.NoError(t, err)
	synctest.Test(t, func(t *testing.T) {
		nw := peertest.NewNetwork()
		s := startSession(t, nw, peer.SessionConfig{MaxConns: 3})
		swA, swB := seedIn(t, s, a, nil), seedIn(t, s, b, nil)
		for range 2 {
			leechFrom(t, nw, a, s.addr, downLimit(64<<10))
			leechFrom(t, nw, b, s.addr, downLimit(64<<10))
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		assert.Equal(t, 3, s.Stats().Conns)
		assert.Equal(t, 3, len(swA.Stats().Peers)+len(swB.Stats().Peers), "three of the four leechers")
		require.NoError(t, s.Remove(a.InfoHash))
		time.Sleep(5 * time.Second) // the leechers of b redial
		synctest.Wait()
		assert.Equal(t, 2, s.Stats().Conns)
		assert.Len(t, swB.Stats().Peers, 2, "b's leechers both connected once a's slots are free")
	})
}

// An idle swarm ticks slowly (idleTickInterval) but still announces on time, and serves a
// peer that arrives after a long idle spell as usual.
func TestIdleSwarmAnnouncesOnTimeAndServes(t *testing.T) {
	tor, err := peertest.NewTorrent("idle.bin", 512<<10, 32<<10, 51)
	require.NoError(t, err)
	synctest.Test(t, func(t *testing.T) {
		nw, tr := peertest.NewNetwork(), peertest.NewTracker()
		tr.Interval = 17 * time.Second
		rec := &timedAnnouncer{Announcer: tr, when: map[peer.Event][]time.Time{}}
		s := startSession(t, nw, peer.SessionConfig{})
		start := time.Now()
		seedIn(t, s, tor, func(c *peer.Config) { c.Announcer = rec })
		time.Sleep(2 * time.Minute)
		rec.mu.Lock()
		regular := rec.when[peer.EventNone]
		rec.mu.Unlock()
		require.Len(t, regular, 7, "every 17 s for two minutes")
		prev := start
		for i, at := range regular {
			assert.Less(t, at.Sub(prev.Add(17*time.Second)), time.Second, "announce %d late", i+1)
			prev = at
		}
		l := leechFrom(t, nw, tor, s.addr)
		awaitComplete(t, l, time.Minute)
		assert.NoError(t, tor.Compare(l.Storage))
	})
}
