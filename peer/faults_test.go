package peer_test

import (
	"context"
	"errors"
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

// Fault tests: peers and trackers that go away and come back. docs/reliability.md lists them.

func TestFaultSeederLeavesMidDownload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tor, err := peertest.NewTorrent("leaves.bin", 2<<20, 32<<10, 50)
		require.NoError(t, err)
		nw, tr := peertest.NewNetwork(), peertest.NewTracker()
		fast := hNode(t, nw, tor, peertest.Options{Announcer: tr, Seed: true, Configure: configure(uploadLimit(512 << 10))})
		slow := hNode(t, nw, tor, peertest.Options{Announcer: tr, Seed: true, Configure: configure(uploadLimit(128 << 10))})
		leecher := hNode(t, nw, tor, peertest.Options{Announcer: tr})
		quarter := tor.Info.NumPieces() / 4
		require.True(t, poll(time.Minute, func() bool { return leecher.Swarm.Stats().Have >= quarter }))
		require.NoError(t, fast.Stop())
		left := leecher.Swarm.Stats().Left
		start := time.Now()
		awaitComplete(t, leecher, 2*time.Minute)
		require.NoError(t, tor.Compare(leecher.Storage))
		took := time.Since(start)
		t.Logf("%d bytes left when the fast seeder left; done %v later", left, took)
		// The rest comes from the slow seeder at its rate, with at most a request timeout lost.
		assert.Less(t, took.Seconds(), float64(left)/(128<<10)+hRequest.Seconds()+2)
		for _, p := range leecher.Swarm.Stats().Peers {
			assert.NotEqual(t, fast.Addr, p.Addr)
		}
		_ = slow
	})
}

// keepListed is an Announcer that never tells the tracker we stopped: a crashed peer stays
// listed.
type keepListed struct{ peer.Announcer }

func (k keepListed) Announce(ctx context.Context, req peer.AnnounceRequest) (peer.AnnounceResponse, error) {
	if req.Event == peer.EventStopped {
		return peer.AnnounceResponse{}, errors.New("crashed")
	}
	return k.Announcer.Announce(ctx, req)
}

// TestFaultAllPeersLeaveAndReturnSameAddress uses real TCP: the seeder crashes (the tracker
// still lists it) and comes back on the same port; the leecher redials it on its own.
func TestFaultAllPeersLeaveAndReturnSameAddress(t *testing.T) {
	tor, err := peertest.NewTorrent("return.bin", 2<<20, 32<<10, 51)
	require.NoError(t, err)
	tr := peertest.NewTracker()
	listen := func() net.Listener {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		return l
	}
	l := listen()
	port := l.Addr().(*net.TCPAddr).Port
	seeder := hNode(t, nil, tor, peertest.Options{Announcer: keepListed{tr}, Seed: true,
		Configure: configure(uploadLimit(1<<20), func(c *peer.Config) { c.Listener = l })})
	leecher := hNode(t, nil, tor, peertest.Options{Announcer: tr})
	quarter := tor.Info.NumPieces() / 4
	require.True(t, poll(10*time.Second, func() bool { return leecher.Swarm.Stats().Have >= quarter }))
	require.NoError(t, seeder.Stop())
	require.True(t, poll(5*time.Second, func() bool { return len(leecher.Swarm.Stats().Peers) == 0 }))
	time.Sleep(2 * time.Second) // real time: the leecher keeps failing to dial, backing off
	have := leecher.Swarm.Stats().Have
	assert.Less(t, have, tor.Info.NumPieces())

	var again net.Listener
	require.True(t, poll(5*time.Second, func() bool {
		again, err = net.Listen("tcp", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)).String())
		return err == nil
	}), "port %d: %v", port, err)
	hNode(t, nil, tor, peertest.Options{Announcer: keepListed{tr}, Seed: true,
		Configure: configure(func(c *peer.Config) { c.Listener = again })})
	awaitComplete(t, leecher, 20*time.Second)
	require.NoError(t, tor.Compare(leecher.Storage))
}

// TestFaultAllPeersLeaveNewOneFromTracker: the only seeder leaves for good (announcing stopped)
// and another appears at a new address; the leecher, out of peers, asks the tracker early and
// finds it without any user action.
func TestFaultAllPeersLeaveNewOneFromTracker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tor, err := peertest.NewTorrent("new.bin", 2<<20, 32<<10, 52)
		require.NoError(t, err)
		nw, tr := peertest.NewNetwork(), peertest.NewTracker()
		tr.Interval = time.Hour // only an early announce can find the new seeder in time
		first := hNode(t, nw, tor, peertest.Options{Announcer: tr, Seed: true, Configure: configure(uploadLimit(512 << 10))})
		leecher := hNode(t, nw, tor, peertest.Options{Announcer: tr})
		require.True(t, poll(time.Minute, func() bool { return leecher.Swarm.Stats().Have >= tor.Info.NumPieces()/4 }))
		require.NoError(t, first.Stop())
		time.Sleep(10 * time.Second) // nobody to download from
		have := leecher.Swarm.Stats().Have
		require.Less(t, have, tor.Info.NumPieces())
		hNode(t, nw, tor, peertest.Options{Announcer: tr, Seed: true})
		start := time.Now()
		awaitComplete(t, leecher, 5*time.Minute)
		require.NoError(t, tor.Compare(leecher.Storage))
		t.Logf("found the new seeder and completed %v after it started", time.Since(start))
		assert.Less(t, time.Since(start), time.Minute, "the leecher must re-announce early when out of peers")
	})
}

// faultAnnouncer fails while down (the tracker is unreachable or answers garbage: the tracker
// client turns both into errors) and records when each announce happened.
type faultAnnouncer struct {
	inner peer.Announcer
	mu    sync.Mutex
	down  error
	calls []announceCall
}

type announceCall struct {
	at  time.Time
	ev  peer.Event
	err error
}

func (f *faultAnnouncer) setDown(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = err
}

func (f *faultAnnouncer) Announce(ctx context.Context, req peer.AnnounceRequest) (peer.AnnounceResponse, error) {
	f.mu.Lock()
	err := f.down
	f.mu.Unlock()
	var resp peer.AnnounceResponse
	if err == nil {
		resp, err = f.inner.Announce(ctx, req)
	}
	f.mu.Lock()
	f.calls = append(f.calls, announceCall{at: time.Now(), ev: req.Event, err: err})
	f.mu.Unlock()
	return resp, err
}

func (f *faultAnnouncer) log() []announceCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]announceCall(nil), f.calls...)
}

func TestFaultTrackerDownThenBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tor, err := peertest.NewTorrent("tracker.bin", 2<<20, 32<<10, 53)
		require.NoError(t, err)
		nw, tr := peertest.NewNetwork(), peertest.NewTracker()
		seeder := hNode(t, nw, tor, peertest.Options{Seed: true, Configure: configure(uploadLimit(64 << 10))})
		ann := &faultAnnouncer{inner: tr, down: errors.New("dial tcp 127.0.0.1:6969: connection refused")}
		logs := newRecorder()
		leecher := hNode(t, nw, tor, peertest.Options{Announcer: ann, Logger: logs.logger(), Configure: configure(func(c *peer.Config) {
			c.Timeouts.MinAnnounce = time.Second
		})})
		leecher.Swarm.AddPeers(seeder.Addr) // a peer known from elsewhere (an earlier announce, PEX)
		time.Sleep(10 * time.Second)
		ann.setDown(errors.New("decode reply: bencode: syntax error")) // back, but answering garbage
		time.Sleep(10 * time.Second)
		calls := ann.log()
		st := leecher.Swarm.Stats()
		assert.Positive(t, st.Have, "the download goes on with known peers while the tracker is down")
		require.NotEmpty(t, calls)
		var gaps []time.Duration
		for i, c := range calls {
			assert.Error(t, c.err)
			assert.Equal(t, peer.EventStarted, c.ev, "started is repeated until delivered")
			if i > 0 {
				gaps = append(gaps, c.at.Sub(calls[i-1].at))
			}
		}
		t.Logf("%d failed announces in 20 s, gaps %v", len(calls), gaps)
		assert.LessOrEqual(t, len(calls), 6, "failed announces must back off (1, 2, 4, 8 s...)")
		for i := 1; i < len(gaps); i++ {
			assert.GreaterOrEqual(t, gaps[i], gaps[i-1], "backoff gaps must not shrink: %v", gaps)
		}
		assert.NotEmpty(t, logs.find("WARN", "announce failed", "connection refused"), logs.dump())

		ann.setDown(nil)
		awaitComplete(t, leecher, 5*time.Minute)
		require.NoError(t, tor.Compare(leecher.Storage))
		require.True(t, poll(time.Minute, func() bool {
			var evs []peer.Event
			for _, c := range ann.log()[len(calls):] {
				if c.err == nil {
					evs = append(evs, c.ev)
				}
			}
			return len(evs) >= 2 && evs[0] == peer.EventStarted && evs[len(evs)-1] == peer.EventCompleted
		}), "once the tracker is back, started then completed are announced: %+v", ann.log()[len(calls):])
		last := ann.log()[len(calls)]
		assert.Less(t, last.at.Sub(calls[len(calls)-1].at), 20*time.Second, "announces resume within the backoff")
	})
}
