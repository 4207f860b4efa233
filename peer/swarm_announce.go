package peer

import (
	"context"
	"slices"
	"sync/atomic"
	"time"
)

// announceState is the loop's announce bookkeeping. At most one announce is in flight.
type announceState struct {
	inFlight    bool
	queue       []Event   // events still to deliver (started, completed), oldest first
	next        time.Time // next regular announce
	interval    time.Duration
	minInterval time.Duration // from the peer source
	last        time.Time     // when the last announce returned
	fails       int           // failed announces in a row
	lastErr     string        // error of the last announce, "" when it worked
	// completedQueued: completed was queued once, or we started complete (never sent then).
	completedQueued bool
	// seeders, leechers and peers (how many it returned) are from the last good reply.
	seeders, leechers, peers int
	// completedSent is set by the announce goroutine when the peer source accepted the
	// completed event. Its result may never reach the loop (Run stopping drops it), and Run
	// reads this after its goroutines have exited, to send completed itself if needed.
	completedSent atomic.Bool
}

// maybeAnnounce starts an announce when one is due: the regular interval, a pending event, or
// no peers left (early, but never closer than the minimum interval).
func (s *Swarm) maybeAnnounce(ctx context.Context) {
	a := &s.ann
	if s.cfg.Announcer == nil || a.inFlight {
		return
	}
	// Events (completed) go out at once, as BEP 3 expects; trackers count them. Running out
	// of peers only brings the next announce forward, and never closer than the gap.
	gap := max(s.cfg.Timeouts.MinAnnounce, a.minInterval)
	event := a.fails == 0 && len(a.queue) > 0
	starved := a.fails == 0 && s.now.Sub(a.last) >= gap &&
		!s.seeding && len(s.peers.byID) == 0 && s.peers.dialing == 0
	if s.now.Before(a.next) && !event && !starved && !a.last.IsZero() {
		return
	}
	ev := EventNone
	if len(a.queue) > 0 {
		ev = a.queue[0]
	}
	a.inFlight = true
	req := s.announceRequest(ev)
	s.wg.Go(func() {
		actx, cancel := s.announceContext(ctx, ev)
		defer cancel()
		resp, err := s.cfg.Announcer.Announce(actx, req)
		if ev == EventCompleted && err == nil {
			a.completedSent.Store(true)
		}
		s.send(ctx, announceDoneEvent{ev: ev, resp: resp, err: err})
	})
}

// announceContext bounds one announce. The completed event is what trackers count downloads
// by, and `swarm get` stops the swarm the moment the download completes: so that announce is
// not cancelled with the swarm, only bounded by the short Stopped timeout (Run waits for it).
func (s *Swarm) announceContext(ctx context.Context, ev Event) (context.Context, context.CancelFunc) {
	if ev == EventCompleted {
		return context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeouts.Stopped)
	}
	return context.WithTimeout(ctx, s.cfg.Timeouts.AnnounceCall)
}

func (s *Swarm) announceRequest(ev Event) AnnounceRequest {
	return AnnounceRequest{
		InfoHash:   s.cfg.InfoHash,
		PeerID:     s.peerID,
		Port:       s.cfg.Port,
		Uploaded:   s.traffic.uploaded,
		Downloaded: s.traffic.downloaded,
		Left:       s.dl.left,
		Event:      ev,
		NumWant:    s.cfg.MaxPeers,
	}
}

func (s *Swarm) onAnnounceDone(e announceDoneEvent) {
	a := &s.ann
	a.inFlight = false
	a.last = s.now
	if e.err != nil {
		a.fails++
		a.lastErr = e.err.Error()
		wait := min(s.cfg.Timeouts.MinAnnounce<<min(a.fails-1, 10), s.announceInterval())
		a.next = s.now.Add(wait)
		s.log.Warn("announce failed", "event", e.ev, "retry_in", wait, "err", e.err)
		return
	}
	a.fails, a.lastErr = 0, ""
	a.seeders, a.leechers, a.peers = e.resp.Seeders, e.resp.Leechers, len(e.resp.Peers)
	if len(a.queue) > 0 && a.queue[0] == e.ev {
		a.queue = a.queue[1:]
	}
	a.interval, a.minInterval = e.resp.Interval, e.resp.MinInterval
	a.next = s.now.Add(s.announceInterval())
	s.log.Debug("announced", "event", e.ev, "peers", len(e.resp.Peers), "seeders", e.resp.Seeders, "leechers", e.resp.Leechers)
	s.addKnown(e.resp.Peers, s.now, SourceTracker)
}

// minRegularInterval guards against a tracker that asks for announces back to back.
const minRegularInterval = time.Second

// announceInterval is the peer source's interval (or ours when it gives none), never under its
// own min interval. It is not raised to MinAnnounce: a tracker with a short interval expires
// peers that announce less often than it asked.
func (s *Swarm) announceInterval() time.Duration {
	iv := s.ann.interval
	if iv <= 0 {
		iv = s.cfg.Timeouts.Announce
	}
	return max(iv, s.ann.minInterval, minRegularInterval)
}

// announceStopped tells the peer source we leave, bounded by the Stopped timeout, even though
// Run's context is done. A completed event that has not reached it yet (the download
// completed as the swarm was stopped, or behind a started announce still in flight) goes
// first, in its own announce with the same bound, so that trackers count the download. It is
// called after every announce goroutine has exited.
func (s *Swarm) announceStopped(ctx context.Context) {
	if s.cfg.Announcer == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	if slices.Contains(s.ann.queue, EventCompleted) && !s.ann.completedSent.Load() {
		actx, cancel := context.WithTimeout(ctx, s.cfg.Timeouts.Stopped)
		_, err := s.cfg.Announcer.Announce(actx, s.announceRequest(EventCompleted))
		cancel()
		if err != nil {
			s.log.Warn("announce completed failed", "err", err)
		}
	}
	actx, cancel := context.WithTimeout(ctx, s.cfg.Timeouts.Stopped)
	defer cancel()
	if _, err := s.cfg.Announcer.Announce(actx, s.announceRequest(EventStopped)); err != nil {
		s.log.Warn("announce stopped failed", "err", err)
	}
}

// String names the event as trackers spell it ("" for none).
func (e Event) String() string {
	switch e {
	case EventStarted:
		return "started"
	case EventCompleted:
		return "completed"
	case EventStopped:
		return "stopped"
	}
	return ""
}
