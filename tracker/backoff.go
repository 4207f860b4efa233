package tracker

import (
	"math/rand/v2"
	"time"
)

// Backoff computes delays between failed attempts: exponential from Base, capped at Max, with
// "equal jitter" (half fixed, half random) so that many clients do not retry in step. The
// zero value is not usable: set Rand. It is not safe for concurrent use.
type Backoff struct {
	// Base is the first delay; 0 means 15 s.
	Base time.Duration
	// Max caps the delay; 0 means 30 minutes.
	Max time.Duration
	// Rand draws the jitter.
	Rand *rand.Rand

	failures int
}

// Next returns the delay before the next attempt and counts a failure.
func (b *Backoff) Next() time.Duration {
	base, limit := b.Base, b.Max
	if base <= 0 {
		base = 15 * time.Second
	}
	if limit <= 0 {
		limit = 30 * time.Minute
	}
	d := base << min(b.failures, 30)
	if d <= 0 || d > limit {
		d = limit
	}
	b.failures++
	return d/2 + time.Duration(b.Rand.Int64N(int64(d/2)+1))
}

// Reset forgets past failures after a success.
func (b *Backoff) Reset() { b.failures = 0 }
