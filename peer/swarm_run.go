package peer

import (
	"context"
	"net/netip"
	"sync"
	"time"
)

// tickInterval paces the loop's housekeeping: rates, timeouts, choke rounds, announces, dials.
const tickInterval = time.Second

// Run runs the swarm on its own until ctx is done or a fatal error (a storage failure, such
// as a full disk) stops it: it is a Session of one torrent, listening on Config.Listener. It
// returns only after every goroutine it started has exited, having sent stopped to the
// Announcer. A clean stop returns nil. Run may be called once, and not on a swarm that a
// Session made (ErrInSession): the session runs those.
func (s *Swarm) Run(ctx context.Context) error {
	if s.owned {
		return ErrInSession
	}
	if !s.started.CompareAndSwap(false, true) {
		return ErrAlreadyRun
	}
	sess, err := NewSession(SessionConfig{
		Listener: s.cfg.Listener, Port: s.cfg.Port, PeerID: s.peerID,
		MaxConns: s.cfg.MaxPeers, MaxHalfOpen: maxHalfOpen, MaxConnsPerIP: s.cfg.MaxConnsPerIP, DiskWorkers: s.cfg.DiskWorkers,
		Dialer: s.cfg.Dialer, HandshakeTimeout: s.cfg.Timeouts.Handshake, Logger: s.cfg.Logger,
		Encryption: s.cfg.Encryption,
	})
	if err != nil {
		return err
	}
	s.attach(sess, false)
	sess.swarms[s.cfg.InfoHash] = s
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { _ = sess.Run(ctx) })
	select {
	case <-s.exited: // a fatal error stopped the swarm
	case <-ctx.Done():
	}
	cancel()
	wg.Wait()
	return s.runErr
}

// attach binds the swarm to the session it runs in.
func (s *Swarm) attach(sess *Session, owned bool) {
	s.sess, s.owned = sess, owned
	s.started.Store(true)
	s.upLane, s.downLane = sess.up.newLane(), sess.down.newLane()
	if s.cfg.Port == 0 {
		s.cfg.Port = sess.port
	}
}

// run owns all the swarm's state in one goroutine until ctx ends or a fatal error, then
// closes every connection, waits for every goroutine it started and sends the stopped
// announce.
func (s *Swarm) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	s.now = time.Now()
	s.ann.queue = []Event{EventStarted}
	s.startDisk()
	s.live.Store(true)
	s.log.Info("swarm started", "have", s.dl.have.Count(), "config", s.cfg)
	err := s.loop(ctx)
	cancel()
	s.storeFinal() // Stats answers from it while the swarm shuts down
	close(s.loopDone)
	s.shutdown()
	s.announceStopped(ctx)
	st := s.storeFinal()
	if err != nil {
		s.log.Error("swarm stopped", "err", err)
	} else {
		s.log.Info("swarm stopped", "downloaded", st.Downloaded, "uploaded", st.Uploaded)
	}
	return err
}

// storeFinal stores a fresh snapshot for Stats to return once the loop has ended.
func (s *Swarm) storeFinal() Stats {
	st := s.stats()
	s.final.Store(&st)
	return st
}

// deliver hands an event from outside the swarm's goroutines (the session's accept) to the
// loop; it reports false when the loop has ended or ctx ends first.
func (s *Swarm) deliver(ctx context.Context, ev event) bool {
	select {
	case s.events <- ev:
		return true
	case <-s.loopDone:
		return false
	case <-ctx.Done():
		return false
	}
}

// loop handles events, commands and ticks until ctx ends or a fatal error.
func (s *Swarm) loop(ctx context.Context) error {
	tick := time.NewTicker(tickInterval)
	defer tick.Stop()
	period := tickInterval
	s.housekeep(ctx)
	for {
		if done := s.step(ctx, tick.C); done {
			return nil
		}
		if s.fatal != nil {
			return s.fatal
		}
		s.afterEvent(ctx)
		if p := s.tickPeriod(); p != period { // an idle seed ticks less often (swarm_idle.go)
			period = p
			tick.Reset(p)
		}
	}
}

// step waits for one thing to do and does it; it reports true when ctx has ended.
func (s *Swarm) step(ctx context.Context, tick <-chan time.Time) bool {
	jobs, task := s.disk.offer(s)
	if jobs != nil {
		s.diskWG.Add(1) // before the offer: a worker may finish the job before the loop runs on
	}
	taken := false
	defer func() {
		if jobs != nil && !taken {
			s.diskWG.Done()
		}
	}()
	select {
	case ev := <-s.events:
		s.now = time.Now()
		ev.handle(ctx, s)
	case f := <-s.commands:
		s.now = time.Now()
		f()
	case addrs := <-s.mailbox:
		s.now = time.Now()
		for _, a := range addrs {
			s.addKnown([]netip.AddrPort{a.addr}, s.now, a.src)
		}
	case jobs <- task:
		taken = true
		s.disk.taken()
	case now := <-tick:
		s.now = now
		s.onTick(ctx)
	case <-ctx.Done():
		return true
	}
	return false
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
		s.flushBacklog(p)
		s.sampleUpload(p)
		p.up.tick()
		p.down.tick()
		s.expireRequests(p)
		s.expireSuggestions(p, false)
		s.suggestTo(p)
	}
	s.traffic.up.tick()
	s.traffic.down.tick()
	s.chokeRound()
	s.sendPEX()
	s.housekeep(ctx)
}

func (s *Swarm) housekeep(ctx context.Context) {
	s.maybeAnnounce(ctx)
	s.dialMore(ctx)
	s.refillAll()
}

// shutdown closes every connection and waits for all goroutines and disk jobs (Run's context
// is done).
func (s *Swarm) shutdown() {
	s.wg.Wait()
	s.diskWG.Wait()
	for _, p := range s.peers.byID {
		s.sampleUpload(p)
		p.closed = true
		s.sess.conns.release()
	}
}
