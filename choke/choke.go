// The choker decides which peers get upload slots: BitTorrent's tit-for-tat (BEP 3 and the
// mainline choker). It is pure logic: no goroutines, no I/O, no clock of its own. The package
// documentation (doc.go) describes the algorithm and what the engine must do with a Decision.

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
	// Choked: we currently choke the peer. It must reflect the last Decision the engine
	// applied: the choker reads it to know who holds a slot now.
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

// Config tunes the choker. Zero (or negative) fields take the defaults in the comments.
type Config struct {
	Slots              int           // regular unchoke slots; default 4
	Interval           time.Duration // time between regular rounds; default 10 s
	OptimisticInterval time.Duration // rotation of the optimistic slot; default 30 s
	SnubTimeout        time.Duration // unchoked without a block this long = snubbed; default 60 s
	NewPeerWindow      time.Duration // peers younger than this are 3x as likely optimistic; default 60 s
	SeedPolicy         SeedPolicy    // how a seed ranks peers; default SeedFastestUpload
	// Hysteresis is the margin by which a challenger's rate must beat a peer that holds a
	// regular slot to take it (0.1 = 10 %), so near-equal rates do not flap. Default 0.1;
	// negative disables it (exact ties still favour the holder).
	Hysteresis float64
}

// Defaults of Config.
const (
	DefaultSlots              = 4
	DefaultInterval           = 10 * time.Second
	DefaultOptimisticInterval = 30 * time.Second
	DefaultSnubTimeout        = 60 * time.Second
	DefaultNewPeerWindow      = 60 * time.Second
	DefaultHysteresis         = 0.1
	// NewPeerWeight is how much more likely a peer younger than NewPeerWindow is to be picked
	// for the optimistic slot.
	NewPeerWeight = 3
)

// State is what the choker remembers between rounds. The zero value is a fresh start.
type State struct {
	Optimistic    PeerID // the current optimistic unchoke; valid when HasOptimistic
	HasOptimistic bool
	OptimisticAt  time.Time // when Optimistic was chosen
	LastRound     time.Time
	// RoundRobin is the rotation cursor for SeedRoundRobin: the lowest PeerID the next
	// rotation starts from.
	RoundRobin int
	// Seeding is the mode of the last round; a change of mode makes a round due at once.
	Seeding bool
}

// Decision is the set of peers to keep unchoked; every other peer is choked.
type Decision struct {
	// Unchoke lists the regular slots, then the optimistic peer if any. After a full round the
	// regular slots are in rank order; between rounds the holders come first, by ID, then
	// the peers that filled free slots, by rank.
	Unchoke []PeerID
	// Optimistic is the optimistic unchoke; valid when HasOptimistic. It is also in Unchoke.
	Optimistic    PeerID
	HasOptimistic bool
	// Snubbed lists (by ascending ID) the peers judged snubbing us when leeching: they can
	// only hold the optimistic slot. Always empty when seeding.
	Snubbed []PeerID
	// Round reports whether a regular round ran (re-ranking every slot), as opposed to the
	// light upkeep between rounds.
	Round bool
}

// Decide runs the choker at now and returns who to unchoke and the state for the next call.
// seeding selects seed mode. A full round (re-ranking every slot) runs only when one is due;
// in between it only fills free slots (see doc.go). It does not mutate peers; rng must be
// non-nil and is the only source of randomness, so equal inputs and seeds give equal outputs.
func Decide(cfg Config, peers []Peer, prev State, now time.Time, seeding bool, rng *rand.Rand) (Decision, State) {
	cfg = cfg.withDefaults()
	r := newRound(cfg, peers, prev, now, seeding, rng)
	return r.decide()
}

// withDefaults fills zero or negative fields with the defaults.
func (c Config) withDefaults() Config {
	if c.Slots <= 0 {
		c.Slots = DefaultSlots
	}
	c.Interval = orDefault(c.Interval, DefaultInterval)
	c.OptimisticInterval = orDefault(c.OptimisticInterval, DefaultOptimisticInterval)
	c.SnubTimeout = orDefault(c.SnubTimeout, DefaultSnubTimeout)
	c.NewPeerWindow = orDefault(c.NewPeerWindow, DefaultNewPeerWindow)
	switch {
	case c.Hysteresis == 0 || c.Hysteresis != c.Hysteresis: // zero or NaN
		c.Hysteresis = DefaultHysteresis
	case c.Hysteresis < 0:
		c.Hysteresis = 0
	}
	return c
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// tolerance is the slack allowed on round and rotation deadlines, so that a ticker firing a
// little early (or a `now` taken a little before the tick) never skips a round.
func (c Config) tolerance() time.Duration { return c.Interval / 20 }

// RoundDue reports whether Decide, called at now with this state, would run a full round:
// on a fresh state, when seeding changed, and when Interval (less 5 %) has passed.
func (s State) RoundDue(cfg Config, now time.Time, seeding bool) bool {
	cfg = cfg.withDefaults()
	if s.LastRound.IsZero() || s.Seeding != seeding {
		return true
	}
	return overdue(s.LastRound, cfg.Interval, cfg.tolerance(), now)
}

// overdue: at least period (less tol) has passed since last, or the clock went back.
func overdue(last time.Time, period, tol time.Duration, now time.Time) bool {
	since := now.Sub(last)
	return since >= period-tol || since < -tol
}

// anchor is the time to record for an event due period after last that runs at now: the
// scheduled time if now is within tol of it, so that jitter neither drifts the schedule nor
// makes the next call look early; otherwise now.
func anchor(last time.Time, period, tol time.Duration, now time.Time) time.Time {
	sched := last.Add(period)
	if d := now.Sub(sched); !last.IsZero() && d >= -tol && d <= tol {
		return sched
	}
	return now
}

// NextRound is the earliest time the next full round is due; the zero time (for a fresh
// State) means at once.
func (s State) NextRound(cfg Config) time.Time {
	if s.LastRound.IsZero() {
		return time.Time{}
	}
	cfg = cfg.withDefaults()
	return s.LastRound.Add(cfg.Interval - cfg.tolerance())
}
