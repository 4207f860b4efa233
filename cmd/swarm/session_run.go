package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/swarm-bt/swarm/peer"
)

// runner runs the torrents of one process in its peer.Session and decides when each stops.
type runner struct {
	a  *app
	f  *sessionFlags
	ps *peer.Session
	ts []*session
	// rechecks run off the supervising loop; their results come back on recheckDone.
	rechecks    sync.WaitGroup
	recheckDone chan recheckResult
	// changed wakes the supervisor when a torrent completes or stops, so that `swarm get`
	// exits as soon as it is done, not at the next poll.
	changed chan struct{}
}

// watch signals changed when t completes and when it stops, until ctx ends.
func (r *runner) watch(ctx context.Context, t *session) {
	for _, ch := range []<-chan struct{}{t.sw.Completed(), t.sw.Done()} {
		select {
		case <-ch:
		case <-t.sw.Done():
		case <-ctx.Done():
			return
		}
		select {
		case r.changed <- struct{}{}:
		default: // a wake-up is pending already
		}
	}
}

type recheckResult struct {
	t   *session
	res peer.RecheckResult
	err error
}

// add puts every torrent in the session.
func (r *runner) add() error {
	for _, t := range r.ts {
		cfg, err := t.swarmConfig()
		if err != nil {
			return err
		}
		if t.sw, err = r.ps.Add(cfg); err != nil {
			return fmt.Errorf("%s: %w", t.mi.Info.Name, err)
		}
		if len(r.ts) == 1 {
			t.display = newSessionDisplay(r.a, t.mi, r.f.quiet)
		}
	}
	return nil
}

// run runs the session until every torrent has stopped or ctx ends, then reports.
func (r *runner) run(ctx context.Context) error {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { _ = r.ps.Run(runCtx) })
	r.recheckDone = make(chan recheckResult, len(r.ts))
	r.changed = make(chan struct{}, 1)
	for _, t := range r.ts {
		wg.Go(func() { r.watch(runCtx, t) })
	}
	r.supervise(runCtx)
	cancel()
	wg.Wait()
	r.rechecks.Wait()
	for _, t := range r.ts {
		if !t.stopped {
			t.final, t.err = t.sw.Stats(), t.sw.Err()
		}
		if t.display != nil {
			t.display.finish(t.final)
		} else {
			finishLine(r.a, t.mi, t.final)
		}
	}
	if err := writeStats(r.f.statsFile, r.ts); err != nil {
		return err
	}
	return r.exitStatus()
}

// supervise polls the torrents, runs rechecks (SIGHUP, --recheck-every) and takes out the
// torrents that are done, until none is left or ctx ends.
func (r *runner) supervise(ctx context.Context) {
	var signals <-chan os.Signal // SIGHUP in main
	if r.a.recheck != nil {
		signals = r.a.recheck()
	}
	var every <-chan time.Time
	if r.f.recheckEvery > 0 {
		t := time.NewTicker(r.f.recheckEvery)
		defer t.Stop()
		every = t.C
	}
	tick := time.NewTicker(cmp.Or(r.a.pollEvery, 250*time.Millisecond))
	defer tick.Stop()
	sum := &multiDisplay{a: r.a, quiet: r.f.quiet}
	for r.active() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-signals:
			r.recheckAll(ctx)
		case <-every:
			r.recheckAll(ctx)
		case d := <-r.recheckDone:
			r.reportRecheck(d)
		case <-r.changed:
			r.poll(ctx)
		case <-tick.C:
			r.poll(ctx)
			if len(r.ts) > 1 {
				sum.update(r.ts)
			}
		}
	}
}

func (r *runner) active() int {
	n := 0
	for _, t := range r.ts {
		if !t.stopped {
			n++
		}
	}
	return n
}

// poll notices completions and failures, updates the display and takes out the torrents
// whose seed limits are reached.
func (r *runner) poll(ctx context.Context) {
	for _, t := range r.ts {
		if t.stopped {
			continue
		}
		select {
		case <-t.sw.Done(): // a fatal error (a full disk) stopped it
			t.stopped, t.final, t.err = true, t.sw.Stats(), t.sw.Err()
			continue
		default:
		}
		complete := isClosed(t.sw.Completed())
		if complete && t.completedAt.IsZero() {
			t.completedAt = time.Now()
			t.onComplete(ctx)
		}
		// Stats wakes the swarm's loop: ask only when the answer is used (the display, the
		// peers --stats lists, a seed ratio), so that a seed of many idle torrents stays idle.
		var st peer.Stats
		if t.display != nil || t.flags.statsFile != "" || (complete && t.flags.seedRatio > 0 && !t.flags.seed) {
			st = t.sw.Stats()
			t.peers.note(st.Peers)
		}
		if t.display != nil {
			t.display.update(st)
		}
		if complete && !t.rechecking && !t.keepSeeding(st) {
			t.err = r.ps.Remove(t.mi.InfoHash)
			t.stopped, t.final = true, t.sw.Stats()
		}
	}
}

// isClosed reports whether c is closed, without waiting.
func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// recheckAll re-checks every running torrent's content, in the background.
func (r *runner) recheckAll(ctx context.Context) {
	for _, t := range r.ts {
		if t.stopped || t.rechecking {
			continue
		}
		t.rechecking = true
		r.rechecks.Go(func() {
			done := r.f.cores.Checking()
			res, err := t.sw.Recheck(ctx)
			done()
			r.recheckDone <- recheckResult{t: t, res: res, err: err} // buffered: one per torrent
		})
	}
}

func (r *runner) reportRecheck(d recheckResult) {
	d.t.rechecking = false
	if d.err != nil {
		if !errors.Is(d.err, context.Canceled) {
			r.a.logger.Error("recheck failed", "name", d.t.mi.Info.Name, "err", d.err)
		}
		return
	}
	prefix := ""
	if len(r.ts) > 1 {
		prefix = d.t.mi.Info.Name + ": "
	}
	n := d.t.mi.Info.NumPieces()
	fmt.Fprintf(r.a.stdout, "%srecheck: %d of %d pieces good; %d will be downloaded again\n", prefix, d.res.Good, n, n-d.res.Good)
}

// exitStatus: 1 if a torrent failed, 3 if one stopped incomplete, else nil.
func (r *runner) exitStatus() error {
	var failed []error
	var incomplete []string
	for _, t := range r.ts {
		if t.err != nil && !errors.Is(t.err, context.Canceled) {
			failed = append(failed, t.err)
		}
		if t.final.Left > 0 {
			incomplete = append(incomplete, fmt.Sprintf("%d of %d pieces verified", t.final.Have, t.final.NumPieces))
			if len(r.ts) > 1 {
				incomplete[len(incomplete)-1] = t.mi.Info.Name + ": " + incomplete[len(incomplete)-1]
			}
		}
	}
	if len(failed) > 0 {
		return &exitError{code: exitFailed, err: errors.Join(failed...)}
	}
	if len(incomplete) > 0 {
		return &exitError{code: exitIncomplete, err: fmt.Errorf("stopped before completion: %s", strings.Join(incomplete, "; "))}
	}
	return nil
}
