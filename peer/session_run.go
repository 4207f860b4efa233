package peer

import (
	"context"
	"maps"
	"slices"

	"github.com/swarm-bt/swarm/peer/storage"
)

// Run runs the session until ctx is done: it accepts incoming connections and runs the
// swarms of its torrents (added before or while it runs), the shared limiters and the disk
// pool. It returns after every swarm has stopped (each sending its stopped announce) and
// every goroutine it started has exited. A torrent's fatal error (such as a full disk) stops
// that torrent only: see Swarm.Done and Swarm.Err. Run may be called once.
func (s *Session) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return ErrAlreadyRun
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.wg.Go(func() { s.up.run(ctx) })
	s.wg.Go(func() { s.down.run(ctx) })
	for range s.cfg.DiskWorkers {
		s.wg.Go(func() { s.diskWorker(ctx) })
	}
	if s.cfg.Listener != nil {
		s.wg.Go(func() { s.acceptLoop(ctx) })
	}
	s.mu.Lock()
	s.running = true
	pending := slices.Collect(maps.Values(s.swarms))
	s.mu.Unlock()
	for _, sw := range pending {
		s.startSwarm(ctx, sw)
	}
	s.log.Debug("session started", "config", s.cfg)
	s.serve(ctx)
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	close(s.stopped)
	cancel()
	s.wg.Wait()
	return nil
}

// serve starts the swarms that Add hands over until ctx ends.
func (s *Session) serve(ctx context.Context) {
	for {
		select {
		case sw := <-s.start:
			s.startSwarm(ctx, sw)
		case <-ctx.Done():
			return
		}
	}
}

// startSwarm runs sw under a context of its own, which Remove cancels.
func (s *Session) startSwarm(ctx context.Context, sw *Swarm) {
	s.mu.Lock()
	if sw.removed {
		s.mu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	sw.stop = cancel
	s.mu.Unlock()
	s.wg.Go(func() {
		defer cancel()
		sw.finish(sw.run(ctx))
	})
}

// diskTask is one job of a swarm for the shared disk pool.
type diskTask struct {
	sw  *Swarm
	job diskJob
}

// diskWorker runs the swarms' blocking storage work. One hashing buffer per worker, reused
// across torrents: a buffer per piece, or per torrent, costs memory for nothing.
func (s *Session) diskWorker(ctx context.Context) {
	var v *storage.Verifier
	for {
		select {
		case t := <-s.disk:
			v = v.Reuse(t.sw.cfg.Info)
			t.sw.diskDone(t.sw.runJob(t.job, v))
		case <-ctx.Done():
			return
		}
	}
}
