package peer

import (
	"context"
	"time"
)

// tickInterval paces the loop's housekeeping: rates, timeouts, choke rounds, announces, dials.
const tickInterval = time.Second

// Run runs the swarm until ctx is done or a fatal error (a storage failure, such as a full
// disk) stops it. It owns all the swarm's state in one goroutine and returns only after every
// goroutine it started has exited, having sent stopped to the Announcer. A clean stop returns
// nil. Run may be called once.
func (s *Swarm) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return ErrAlreadyRun
	}
	ctx, cancel := context.WithCancel(ctx)
	s.now = time.Now()
	s.ann.queue = []Event{EventStarted}
	s.startDisk(ctx)
	if s.cfg.Listener != nil {
		s.wg.Go(func() { s.acceptLoop(ctx) })
	}
	s.log.Info("swarm started", "have", s.dl.have.Count(), "config", s.cfg)
	err := s.loop(ctx)
	cancel()
	s.shutdown()
	s.announceStopped(ctx)
	st := s.stats()
	s.final.Store(&st)
	close(s.exited)
	if err != nil {
		s.log.Error("swarm stopped", "err", err)
	} else {
		s.log.Info("swarm stopped", "downloaded", st.Downloaded, "uploaded", st.Uploaded)
	}
	return err
}

// loop handles events, commands and ticks until ctx ends or a fatal error.
func (s *Swarm) loop(ctx context.Context) error {
	tick := time.NewTicker(tickInterval)
	defer tick.Stop()
	s.housekeep(ctx)
	for {
		jobs, job := s.disk.offer()
		select {
		case ev := <-s.events:
			s.now = time.Now()
			ev.handle(ctx, s)
		case f := <-s.commands:
			s.now = time.Now()
			f()
		case addrs := <-s.mailbox:
			s.now = time.Now()
			s.addKnown(addrs, s.now)
		case jobs <- job:
			s.disk.taken()
		case now := <-tick.C:
			s.now = now
			s.onTick(ctx)
		case <-ctx.Done():
			return nil
		}
		if s.fatal != nil {
			return s.fatal
		}
		s.afterEvent(ctx)
	}
}

// afterEvent does the work that handlers only flag: refilling pipelines and dialing.
func (s *Swarm) afterEvent(ctx context.Context) {
	if s.dl.refill {
		s.refillAll()
	}
	if s.chk.dirty {
		s.chokeRound()
	}
	if s.peers.wantDial {
		s.dialMore(ctx)
	}
	if !s.ann.inFlight && len(s.ann.queue) > 0 {
		s.maybeAnnounce(ctx)
	}
}

// onTick samples rates, expires requests and runs what is due.
func (s *Swarm) onTick(ctx context.Context) {
	for _, p := range s.peers.byID {
		s.sampleUpload(p)
		p.up.tick()
		p.down.tick()
		s.expireRequests(p)
	}
	s.traffic.up.tick()
	s.traffic.down.tick()
	s.chokeRound()
	s.housekeep(ctx)
}

func (s *Swarm) housekeep(ctx context.Context) {
	s.maybeAnnounce(ctx)
	s.dialMore(ctx)
	s.refillAll()
}

// shutdown closes every connection and waits for all goroutines (Run's context is done).
func (s *Swarm) shutdown() {
	s.wg.Wait()
	for _, p := range s.peers.byID {
		s.sampleUpload(p)
		p.closed = true
	}
}
