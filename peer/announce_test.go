package peer_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/peertest"
)

// timedAnnouncer records when each event was announced.
type timedAnnouncer struct {
	peer.Announcer
	mu   sync.Mutex
	when map[peer.Event][]time.Time
}

func (a *timedAnnouncer) Announce(ctx context.Context, req peer.AnnounceRequest) (peer.AnnounceResponse, error) {
	a.mu.Lock()
	a.when[req.Event] = append(a.when[req.Event], time.Now())
	a.mu.Unlock()
	return a.Announcer.Announce(ctx, req)
}

// TestCompletedAnnouncedAtOnce: BEP 3 trackers count downloads from the completed event, so it
// must not wait for the next regular announce or the early-announce gap.
func TestCompletedAnnouncedAtOnce(t *testing.T) {
	tor := protoTorrent(t)
	synctest.Test(t, func(t *testing.T) {
		net, tr := peertest.NewNetwork(), peertest.NewTracker()
		tr.Interval = 30 * time.Minute
		rec := &timedAnnouncer{Announcer: tr, when: map[peer.Event][]time.Time{}}
		seeder := bubbleNode(t, net, tor, peertest.Options{Announcer: tr, Seed: true})
		leecher := bubbleNode(t, net, tor, peertest.Options{Announcer: rec})
		awaitComplete(t, leecher, 10*time.Minute)
		done := time.Now()
		time.Sleep(10 * time.Second)
		require.NoError(t, leecher.Stop())
		require.NoError(t, seeder.Stop())
		rec.mu.Lock()
		defer rec.mu.Unlock()
		require.Len(t, rec.when[peer.EventCompleted], 1)
		assert.Less(t, rec.when[peer.EventCompleted][0].Sub(done), time.Second)
	})
}

// TestShortTrackerIntervalHonoured: a tracker with a short interval expires peers that announce
// less often, so the swarm must not stretch the interval to its own early-announce gap.
func TestShortTrackerIntervalHonoured(t *testing.T) {
	tor := protoTorrent(t)
	synctest.Test(t, func(t *testing.T) {
		net, tr := peertest.NewNetwork(), peertest.NewTracker()
		tr.Interval = 5 * time.Second
		rec := &timedAnnouncer{Announcer: tr, when: map[peer.Event][]time.Time{}}
		seeder := bubbleNode(t, net, tor, peertest.Options{Announcer: rec, Seed: true, Configure: func(c *peer.Config) {
			c.Timeouts.MinAnnounce = 30 * time.Second
		}})
		time.Sleep(31 * time.Second)
		require.NoError(t, seeder.Stop())
		rec.mu.Lock()
		defer rec.mu.Unlock()
		// started at 0, then regular announces at 5, 10, ..., 30 s.
		assert.GreaterOrEqual(t, len(rec.when[peer.EventNone]), 5)
	})
}

// slowAnnouncer answers after a delay per event, like a tracker over a network, and records
// the events it accepted, in order. A call whose context ends first is not accepted.
type slowAnnouncer struct {
	peer.Announcer
	delay    map[peer.Event]time.Duration
	mu       sync.Mutex
	accepted []peer.Event
}

func (a *slowAnnouncer) Announce(ctx context.Context, req peer.AnnounceRequest) (peer.AnnounceResponse, error) {
	select {
	case <-time.After(a.delay[req.Event]):
	case <-ctx.Done():
		return peer.AnnounceResponse{}, ctx.Err()
	}
	resp, err := a.Announcer.Announce(ctx, req)
	if err == nil {
		a.mu.Lock()
		a.accepted = append(a.accepted, req.Event)
		a.mu.Unlock()
	}
	return resp, err
}

// TestCompletedReachesTrackerWhenStoppedAtCompletion: `swarm get` stops the swarm the moment
// the download completes. The completed announce must still reach the tracker, once and
// before stopped, whether it was in flight at that moment or still queued behind a slow
// started announce (regression: trackers counted one download in six).
func TestCompletedReachesTrackerWhenStoppedAtCompletion(t *testing.T) {
	tor := protoTorrent(t)
	cases := []struct {
		name  string
		delay map[peer.Event]time.Duration
	}{
		{"completed in flight", map[peer.Event]time.Duration{peer.EventCompleted: 200 * time.Millisecond}},
		{"started still in flight", map[peer.Event]time.Duration{peer.EventStarted: time.Hour}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				net, tr := peertest.NewNetwork(), peertest.NewTracker()
				seeder := bubbleNode(t, net, tor, peertest.Options{Announcer: tr, Seed: true})
				synctest.Wait() // the seeder has announced
				rec := &slowAnnouncer{Announcer: tr, delay: c.delay}
				leecher := bubbleNode(t, net, tor, peertest.Options{Announcer: rec})
				leecher.Swarm.AddPeers(seeder.Addr)
				awaitComplete(t, leecher, 10*time.Minute)
				stopped := time.Now()
				require.NoError(t, leecher.Stop())
				assert.Less(t, time.Since(stopped), 11*time.Second, "bounded by the Stopped timeouts")
				require.NoError(t, seeder.Stop())
				rec.mu.Lock()
				defer rec.mu.Unlock()
				require.Contains(t, rec.accepted, peer.EventCompleted)
				assert.Equal(t, 1, countEvent(rec.accepted, peer.EventCompleted), "%v", rec.accepted)
				assert.Equal(t, peer.EventStopped, rec.accepted[len(rec.accepted)-1], "%v", rec.accepted)
			})
		})
	}
}

func countEvent(evs []peer.Event, want peer.Event) int {
	n := 0
	for _, e := range evs {
		if e == want {
			n++
		}
	}
	return n
}
