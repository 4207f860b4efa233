package peer

import (
	"context"
	"net/netip"
	"time"

	"github.com/swarm-bt/swarm/metainfo"
)

// Event is the event of an announce (BEP 3).
type Event int

// Announce events.
const (
	EventNone Event = iota
	EventStarted
	EventCompleted
	EventStopped
)

// AnnounceRequest is what the swarm tells its peer source.
type AnnounceRequest struct {
	InfoHash   metainfo.Hash
	PeerID     [20]byte
	Port       uint16
	Uploaded   int64
	Downloaded int64
	Left       int64
	Event      Event
	NumWant    int
}

// AnnounceResponse is what a peer source answers.
type AnnounceResponse struct {
	Peers []netip.AddrPort
	// Interval is how long to wait before the next regular announce; 0 = the swarm's default.
	Interval time.Duration
	// MinInterval bounds announces made early (e.g. when out of peers); 0 = none.
	MinInterval time.Duration
	Seeders     int
	Leechers    int
}

// Announcer is a peer source that the swarm announces to: the tracker client (adapted in
// cmd/swarm, since peer must not import tracker) or, in tests, an in-memory fake.
// Announce must be safe for concurrent use and must return when ctx is done. An error means
// this announce failed; the swarm retries later with backoff and keeps its known peers.
type Announcer interface {
	Announce(ctx context.Context, req AnnounceRequest) (AnnounceResponse, error)
}
