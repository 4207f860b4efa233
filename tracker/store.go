package tracker

import (
	"encoding/hex"
	"iter"
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

// Peer is one peer of a swarm: its id and the address it accepts connections on.
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
	Peer     Peer
	// Seeder is true when the peer has nothing left to download.
	Seeder bool
	// Completed is true for event=completed; the store counts it once per peer.
	Completed bool
	// Now is the announce time; Expire compares against it.
	Now time.Time
	// NumWant is how many peers to sample into the reply (0 = none).
	NumWant int
}

// Store holds the swarms of a tracker.
//
// All methods are safe for concurrent use and do not block on I/O. Put appends at most
// req.NumWant peers of the same swarm to dst and returns it; the sample never contains the
// requester itself, and holds only leechers when the requester is a seeder. Put returns
// ErrSwarmFull (the reply is still valid, the peer is just not stored) or ErrTooManySwarms
// (nothing stored, nothing sampled). Expire removes peers last seen before cutoff and swarms left
// empty, and returns how many peers it removed. Swarms yields a snapshot of swarm counts; its
// order is unspecified. Peer slices handed back belong to the caller.
type Store interface {
	Put(req PutRequest, dst []Peer) ([]Peer, Counts, error)
	Remove(h metainfo.Hash, id PeerID) Counts
	Scrape(h metainfo.Hash) (Counts, bool)
	Swarms() iter.Seq2[metainfo.Hash, Counts]
	Expire(cutoff time.Time) int
	Len() (swarms, peers int)
}
