// Package choke decides which peers get upload slots: BitTorrent's tit-for-tat (BEP 3 and the
// mainline choker). It is pure logic: no goroutines, no I/O, no clock of its own.
package choke

import (
	"math/rand/v2"
	"time"
)

// PeerID names a peer in the engine's table; the engine picks the numbers.
type PeerID int

// Peer is a snapshot of one connected peer, taken by the engine for a decision.
type Peer struct {
	ID PeerID
	// Interested: the peer wants pieces we have.
	Interested bool
	// Choked: we currently choke the peer.
	Choked bool
	// DownRate is the bytes per second the peer sent us over a recent window (about 20 s).
	DownRate float64
	// UpRate is the bytes per second we sent the peer over the same window.
	UpRate float64
	// ConnectedAt is when the connection was established.
	ConnectedAt time.Time
	// LastBlockAt is when the peer last sent us a block; zero if never.
	LastBlockAt time.Time
}

// SeedPolicy chooses how a seed ranks peers.
type SeedPolicy int

const (
	// SeedFastestUpload unchokes the peers we upload to fastest, so pieces spread to those who
	// can pass them on.
	SeedFastestUpload SeedPolicy = iota
	// SeedRoundRobin rotates the slots among interested peers.
	SeedRoundRobin
)

// Config tunes the choker. Zero fields take the defaults in the comments.
type Config struct {
	Slots              int           // regular unchoke slots; default 4
	Interval           time.Duration // time between regular rounds; default 10 s
	OptimisticInterval time.Duration // rotation of the optimistic slot; default 30 s
	SnubTimeout        time.Duration // unchoked without a block this long = snubbed; default 60 s
	NewPeerWindow      time.Duration // peers younger than this are 3x as likely optimistic; default 60 s
	SeedPolicy         SeedPolicy
}

// State is what the choker remembers between rounds. The zero value is a fresh start.
type State struct {
	Optimistic    PeerID // the current optimistic unchoke; valid when HasOptimistic
	HasOptimistic bool
	OptimisticAt  time.Time // when Optimistic was chosen
	LastRound     time.Time
	// RoundRobin is the rotation cursor for SeedRoundRobin.
	RoundRobin int
}

// Decision is the set of peers to keep unchoked; every other peer is choked.
type Decision struct {
	Unchoke []PeerID
}

// Decide runs one choking round at now. seeding selects seed mode. It does not mutate peers;
// rng must be non-nil and is the only source of randomness.
func Decide(cfg Config, peers []Peer, prev State, now time.Time, seeding bool, rng *rand.Rand) (Decision, State) {
	// Placeholder until the choker lands: unchoke the first Slots interested peers.
	slots := cfg.Slots
	if slots == 0 {
		slots = 4
	}
	var d Decision
	for _, p := range peers {
		if p.Interested && len(d.Unchoke) < slots+1 {
			d.Unchoke = append(d.Unchoke, p.ID)
		}
	}
	prev.LastRound = now
	return d, prev
}
