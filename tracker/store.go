package tracker

import (
	"context"
	"encoding/hex"
	"log/slog"
	"net/netip"
	"time"

	"github.com/swarm-bt/swarm/metainfo"
)

// PeerID is the 20-byte peer id a client chooses (BEP 3).
type PeerID [20]byte

// String returns the hex form of the id.
func (id PeerID) String() string { return hex.EncodeToString(id[:]) }

// LogValue makes slog print the hex form.
func (id PeerID) LogValue() slog.Value { return slog.StringValue(id.String()) }

// Peer is one peer of a swarm: its id and the address it accepts connections on. Stores key
// peers by address alone, so peers they hand back have a zero ID.
type Peer struct {
	ID   PeerID
	Addr netip.AddrPort
}

// Counts are the numbers a scrape reports for one swarm (BEP 48).
type Counts struct {
	// Complete is the number of seeders.
	Complete int
	// Incomplete is the number of leechers.
	Incomplete int
	// Downloaded is the number of completed events seen, once per peer.
	Downloaded int
}

// PutRequest records one announce in a store.
type PutRequest struct {
	InfoHash metainfo.Hash
	// Addr is the peer's address as the tracker saw it (source IP, announced port): the key
	// of the peer's record. A peer id is never a key: anyone can claim anyone's id.
	Addr netip.AddrPort
	// Seeder is true when the peer has nothing left to download.
	Seeder bool
	// Completed is true for event=completed; the store counts it once per peer.
	Completed bool
	// Stopped removes the peer (event=stopped) after counting a download it reports.
	Stopped bool
	// NoCreate refuses to start a new swarm (ErrTooManySwarms) while still serving known ones.
	NoCreate bool
	// Now is the announce time; Expire compares against it.
	Now time.Time
	// NumWant is how many peers to sample into the reply (0 = none).
	NumWant int
}

// PutResult is a store's answer to a Put.
type PutResult struct {
	// Peers is the sample, appended to the dst slice given to Put.
	Peers []Peer
	// Counts are the swarm's counts after the announce.
	Counts Counts
	// Created reports that this announce started the swarm.
	Created bool
}

// Totals are the numbers of swarms and stored peers of a whole store.
type Totals struct {
	Swarms int
	Peers  int
}

// Store holds the swarms of a tracker.
//
// Peers are keyed by (info-hash, address), as opentracker does: an announce from one address
// never touches the record of another, whatever peer id it claims.
//
// All methods are safe for concurrent use and honour ctx. Put appends at most req.NumWant
// peers of the same swarm to dst; the sample never contains the requester itself, and holds
// only leechers when the requester is a seeder. Put returns ErrSwarmFull (the result is still
// valid, the peer is just not stored) or ErrTooManySwarms (nothing stored, nothing sampled).
// Scrape appends the counts of each hash to dst, zero for unknown swarms. Swarms calls yield
// with every swarm's counts, in no particular order, until yield returns false; it is as costly
// as the store is large, for full scrapes only. Expire removes peers last seen before cutoff
// and swarms left empty, doing a bounded amount of work per call, and returns how many peers it
// removed. Totals is cheap (O(1)) and may lag behind by up to one Expire pass.
//
// A store that cannot reach its backing service returns an error wrapping ErrUnavailable.
// Peer slices handed back belong to the caller.
type Store interface {
	Put(ctx context.Context, req PutRequest, dst []Peer) (PutResult, error)
	Scrape(ctx context.Context, hs []metainfo.Hash, dst []Counts) ([]Counts, error)
	Swarms(ctx context.Context, yield func(metainfo.Hash, Counts) bool) error
	Expire(ctx context.Context, cutoff time.Time) (int, error)
	Totals(ctx context.Context) (Totals, error)
}

// Pinger is implemented by stores with a backing service; /healthz reports its answer.
type Pinger interface {
	Ping(ctx context.Context) error
}
