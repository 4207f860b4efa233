package peer

import (
	"context"
	"errors"
	"fmt"
	"math"

	"golang.org/x/time/rate"

	"github.com/swarm-bt/swarm/peer/wire"
)

// minBurst is the smallest burst NewLimiter gives: several blocks, so that per-block charging
// never fails (WaitN refuses n > burst) and a few connections can send at once.
const minBurst = 4 * wire.BlockSize

// NewLimiter returns a limiter of bytesPerSec (0 or less, or rate.Inf, means unlimited) whose
// burst is four blocks or a tenth of a second's worth, whichever is more. Share one limiter
// between torrents for a global limit.
func NewLimiter(bytesPerSec rate.Limit) *rate.Limiter {
	l := rate.NewLimiter(rate.Inf, minBurst)
	setLimit(l, bytesPerSec)
	return l
}

func orUnlimited(l *rate.Limiter) *rate.Limiter {
	if l == nil {
		return NewLimiter(rate.Inf)
	}
	return l
}

// setLimit changes l's rate, keeping the burst at least one block.
func setLimit(l *rate.Limiter, r rate.Limit) {
	if r <= 0 {
		r = rate.Inf
	}
	burst := minBurst
	if r != rate.Inf {
		burst = max(minBurst, int(math.Min(float64(r)/10, 1<<30)))
	}
	l.SetBurst(burst)
	l.SetLimit(r)
}

// errBurst is returned when a limiter's burst is zero while its rate is finite.
var errBurst = errors.New("peer: rate limiter burst is zero")

// waitN charges n bytes to l, in burst-sized steps so that a small burst cannot make WaitN
// fail.
func waitN(ctx context.Context, l *rate.Limiter, n int) error {
	if l.Limit() == rate.Inf {
		return nil
	}
	for n > 0 {
		k := min(n, l.Burst())
		if k <= 0 {
			return errBurst
		}
		if err := l.WaitN(ctx, k); err != nil {
			return fmt.Errorf("wait for rate limiter: %w", err)
		}
		n -= k
	}
	return nil
}
