package tracker

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers branch on them with errors.Is.
var (
	// ErrSwarmFull means the swarm holds MaxPeersPerSwarm peers; the peer is not stored.
	ErrSwarmFull = errors.New("tracker: swarm is full")
	// ErrTooManySwarms means the store holds MaxSwarms swarms and will not start another.
	ErrTooManySwarms = errors.New("tracker: too many swarms")
	// ErrUnavailable means a store's backing service (Redis) cannot be reached or is too slow;
	// clients are told to come back later.
	ErrUnavailable = errors.New("tracker: store unavailable")
	// ErrNoTrackers means an announce had no tracker URL to try.
	ErrNoTrackers = errors.New("tracker: no tracker urls")
)

// ClientError is a problem with a request that the client is told about, as the bencoded
// "failure reason" of an HTTP 200 reply. Reason is safe to show to anyone.
type ClientError struct {
	Reason string
	kind   string // metrics label; "" means bad_request
}

func (e *ClientError) kindOrDefault() string {
	if e.kind == "" {
		return "bad_request"
	}
	return e.kind
}

// Error returns the reason.
func (e *ClientError) Error() string { return e.Reason }

func clientErrorf(format string, args ...any) *ClientError {
	return &ClientError{Reason: fmt.Sprintf(format, args...)}
}

// FailureError is a "failure reason" a tracker answered with.
type FailureError struct {
	// Tracker is the URL that answered.
	Tracker string
	// Reason is the tracker's text.
	Reason string
}

// Error names the tracker and its reason.
func (e *FailureError) Error() string {
	return fmt.Sprintf("tracker %s: failure reason: %s", Redact(e.Tracker), e.Reason)
}
