package peer

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// fairLimiter is a global rate limit shared fairly between torrents. A plain shared
// rate.Limiter serves its waiters first come, first served, so a torrent gets bandwidth in
// proportion to its connections: one with forty peers would leave a trickle to one with two.
// Here each torrent waits in its own lane and one scheduler goroutine grants the rate to the
// lanes by start-time fair queueing (each waiting lane in turn, counted in bytes): lanes
// that want more than an equal share get an equal share, and what a lane does not use (its
// peers are slow, or it has none) goes to the others at once. Within a lane, grants are
// first come, first served.
type fairLimiter struct {
	lim  *rate.Limiter
	wake chan struct{} // a ticket arrived (capacity 1)

	mu   sync.Mutex
	busy []*lane // lanes with tickets waiting
	vnow int64   // virtual time: the start tag of the last grant
}

// lane is one torrent's queue in a fairLimiter.
type lane struct {
	f     *fairLimiter
	queue []*ticket
	vtime int64 // the start tag of the lane's next grant, in bytes of service
}

// ticket is one wait for n bytes; ready closes when they are granted.
type ticket struct {
	n     int
	ready chan struct{}
	dead  bool // the waiter gave up
}

func newFairLimiter(r rate.Limit) *fairLimiter {
	f := &fairLimiter{lim: NewLimiter(rate.Inf), wake: make(chan struct{}, 1)}
	f.setLimit(r)
	return f
}

func (f *fairLimiter) setLimit(r rate.Limit) { setLimit(f.lim, r) }

// unlimited reports whether there is no limit: waiters skip the lanes altogether.
func (f *fairLimiter) unlimited() bool { return f.lim.Limit() == rate.Inf }

func (f *fairLimiter) newLane() *lane { return &lane{f: f} }

// request queues a wait for n bytes (at most the burst).
func (l *lane) request(n int) *ticket {
	t := &ticket{n: n, ready: make(chan struct{})}
	f := l.f
	f.mu.Lock()
	if len(l.queue) == 0 {
		// A lane that was idle starts at the current virtual time: it gets no credit for the
		// time it wanted nothing.
		l.vtime = max(l.vtime, f.vnow)
		f.busy = append(f.busy, l)
	}
	l.queue = append(l.queue, t)
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
	return t
}

// cancel gives up a ticket; its bytes are not granted (or are wasted if already reserved).
func (l *lane) cancel(t *ticket) {
	l.f.mu.Lock()
	t.dead = true
	l.f.mu.Unlock()
}

// wait charges n bytes to the lane, in burst-sized steps, blocking until they are granted or
// ctx ends.
func (l *lane) wait(ctx context.Context, n int) error {
	for n > 0 && !l.f.unlimited() {
		k := min(n, l.f.lim.Burst())
		if k <= 0 {
			return errBurst
		}
		t := l.request(k)
		select {
		case <-t.ready:
		case <-ctx.Done():
			l.cancel(t)
			return fmt.Errorf("wait for rate limiter: %w", ctx.Err())
		}
		n -= k
	}
	return nil
}

// next takes the ticket to grant next: the head of the waiting lane with the smallest start
// tag (ties go to the lane that waited first). Nil when none waits.
func (f *fairLimiter) next() *ticket {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(f.busy) > 0 {
		k := 0
		for i, l := range f.busy {
			if l.vtime < f.busy[k].vtime {
				k = i
			}
		}
		l := f.busy[k]
		t := l.queue[0]
		l.queue[0] = nil
		l.queue = l.queue[1:]
		if len(l.queue) == 0 {
			l.queue = nil
			f.busy = append(f.busy[:k], f.busy[k+1:]...)
		}
		if t.dead {
			continue
		}
		f.vnow = l.vtime
		l.vtime += int64(t.n)
		return t
	}
	return nil
}

// run grants tickets at the limiter's rate until ctx ends.
func (f *fairLimiter) run(ctx context.Context) {
	for {
		t := f.next()
		if t == nil {
			select {
			case <-f.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		if r := f.lim.ReserveN(time.Now(), t.n); r.OK() {
			// Not OK only if the burst shrank below n since the request: grant it then,
			// rather than never.
			if d := r.Delay(); d > 0 {
				tm := time.NewTimer(d)
				select {
				case <-tm.C:
				case <-ctx.Done():
					tm.Stop()
					return
				}
			}
		}
		close(t.ready)
	}
}
