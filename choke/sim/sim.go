// Package sim is a discrete-time swarm simulation that runs the real choker (choke.Decide)
// for every uploading peer, on a virtual clock, to measure what tit-for-tat does to a
// free-rider. It models pieces, not sockets: each tick every uploader splits its upload
// capacity equally among the interested peers it unchokes, and each downloader fetches
// rarest-first the pieces its uploaders have. See docs/freerider.md for the experiment.
package sim

import (
	"math/rand/v2"
	"time"

	"github.com/swarm-bt/swarm/choke"
)

// MiB is a mebibyte, for sizes and rates.
const MiB = 1 << 20

// Config describes one swarm. Zero fields take the defaults in the comments.
type Config struct {
	Contributors int     // leechers that upload; default 8
	FreeRiders   int     // leechers that never upload; default 1
	FileSize     int64   // bytes; default 128 MiB
	PieceSize    int64   // bytes; default 256 KiB
	SeederRate   float64 // the seeder's upload, bytes/s; default 1 MiB/s
	LeecherRate  float64 // each contributor's upload, bytes/s; default 1 MiB/s
	// SeederPolicy is the seeder's choke.SeedPolicy (contributors that finished use it too).
	SeederPolicy choke.SeedPolicy
	// Choke configures every peer's choker (slots, intervals...); zero fields are choke's
	// defaults.
	Choke choke.Config
	// Linger is how long a contributor keeps seeding after it completes; negative: until the
	// end of the run. Free-riders leave when they complete.
	Linger time.Duration
	// Blind is the control experiment: every peer ignores rates and snubbing and rotates its
	// slots round-robin (choke.Decide in seed mode with SeedRoundRobin), so that nothing
	// rewards uploading.
	Blind bool
	// JoinSpread: the leechers join at uniformly random times in [0, JoinSpread); default 10 s.
	JoinSpread time.Duration
	// Arrival, when positive, switches to a steady stream (stream.go): contributor k (from 0)
	// joins at a uniformly random time in [k·Arrival, (k+1)·Arrival), so one arrives every
	// Arrival on average; Contributors is then the most that may arrive (the pool). The run
	// ends when the free-riders have completed and so has every contributor that joined
	// before them; arrivals go on until then.
	Arrival time.Duration
	// FreeRiderAt is when the free-riders join in a stream (ignored without Arrival).
	FreeRiderAt time.Duration
	Tick        time.Duration // default 500 ms
	RateWindow  time.Duration // window of the rates fed to the choker; default 20 s
	Limit       time.Duration // give up at this virtual time; default 4 h
	Seed        uint64        // seeds every random choice of the run
}

func (c Config) withDefaults() Config {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.Contributors <= 0 {
		c.Contributors = 8
	}
	if c.FreeRiders < 0 {
		c.FreeRiders = 0
	} else if c.FreeRiders == 0 {
		c.FreeRiders = 1
	}
	def(&c.FileSize, 128*MiB)
	def(&c.PieceSize, 256<<10)
	if c.SeederRate <= 0 {
		c.SeederRate = MiB
	}
	if c.LeecherRate <= 0 {
		c.LeecherRate = MiB
	}
	defDur(&c.JoinSpread, 10*time.Second)
	defDur(&c.Tick, 500*time.Millisecond)
	defDur(&c.RateWindow, 20*time.Second)
	defDur(&c.Limit, 4*time.Hour)
	return c
}

// Baseline is the experiment of docs/freerider.md: one seeder uploading at 1.5 MiB/s
// (round robin), 8 contributors uploading at 1 MiB/s each with 4 regular slots and one
// optimistic slot, 1 free-rider, a 256 MiB torrent of 256 KiB pieces; contributors leave
// when they complete.
func Baseline() Config {
	return Config{Contributors: 8, FreeRiders: 1, FileSize: 256 * MiB, PieceSize: 256 << 10,
		SeederRate: 1.5 * MiB, LeecherRate: MiB, SeederPolicy: choke.SeedRoundRobin,
		Choke: choke.Config{Slots: 4}}
}

// Result is the outcome of one run. Times are from each peer's join to its last piece;
// zero means it did not complete before Config.Limit.
type Result struct {
	Seed         uint64
	Contributors []time.Duration
	FreeRiders   []time.Duration
	// FreeRiderFromSeeder is the fraction of the free-riders' bytes that came from the
	// original seeder (the rest came from optimistic unchokes and lingering contributors).
	FreeRiderFromSeeder float64
	// RateRatio compares download rates while every contributor is still downloading (up to
	// the first completion): the contributors' mean bytes received over the first
	// free-rider's. It isolates the choker's effect from the end of the run, when finished
	// contributors seed or leave.
	RateRatio float64
	End       time.Duration // virtual time when the run stopped
	// Present is, in a stream, the mean number of contributors downloading while the first
	// free-rider was (0 otherwise).
	Present float64
	// Starved reports a stream that ran out of contributors before the run ended: the end of
	// the run was then not steady, and Config.Contributors should be larger.
	Starved bool
}

// Run simulates one swarm to completion (or Config.Limit) and reports the completion times.
func Run(cfg Config) Result {
	cfg = cfg.withDefaults()
	s := newSwarm(cfg)
	for !s.finished() {
		s.step()
	}
	return s.result()
}

// kind is a node's role.
type kind int

const (
	seeder kind = iota
	contributor
	freeRider
)

// swarm is the whole simulated swarm. Node 0 is the seeder, then the contributors, then the
// free-riders.
type swarm struct {
	cfg    Config
	nodes  []*node
	pieces int
	avail  []int // how many present nodes have each piece
	now    time.Duration
	base   time.Time // virtual time origin handed to the choker
	// phase holds every node's bytes received when the first contributor completed.
	phase []int64
	rng   *rand.Rand
	track streamTrack // stream mode: what happened while the first free-rider downloaded
}

func newSwarm(cfg Config) *swarm {
	s := &swarm{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0xf7ee)),
		base: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s.pieces = int((cfg.FileSize + cfg.PieceSize - 1) / cfg.PieceSize)
	s.avail = make([]int, s.pieces)
	n := 1 + cfg.Contributors + cfg.FreeRiders
	for i := range n {
		k := contributor
		switch {
		case i == 0:
			k = seeder
		case i > cfg.Contributors:
			k = freeRider
		}
		s.nodes = append(s.nodes, s.newNode(i, k, n))
	}
	s.join(s.nodes[0])
	return s
}

// pieceLen is the size of piece p (the last one may be short).
func (s *swarm) pieceLen(p int) int64 {
	if p == s.pieces-1 {
		return s.cfg.FileSize - int64(p)*s.cfg.PieceSize
	}
	return s.cfg.PieceSize
}

// at is the virtual wall time of offset d, for the choker.
func (s *swarm) at(d time.Duration) time.Time { return s.base.Add(d) }

func (s *swarm) finished() bool {
	if s.now >= s.cfg.Limit {
		return true
	}
	if s.cfg.Arrival > 0 {
		return s.streamFinished()
	}
	for _, n := range s.nodes[1:] {
		if !n.done {
			return false
		}
	}
	return true
}

// step advances the swarm by one tick: arrivals and departures, a choke decision by every
// uploader, then the transfers of the tick.
func (s *swarm) step() {
	for _, n := range s.nodes {
		switch {
		case !n.present && !n.gone && n.joinAt <= s.now:
			s.join(n)
		case n.present && n.leaves && n.leaveAt <= s.now:
			s.leave(n)
		}
	}
	for _, u := range s.nodes {
		if u.present && u.kind != freeRider {
			s.choke(u)
		}
	}
	before := s.trackBefore()
	for _, u := range s.nodes {
		s.upload(u)
	}
	s.trackAfter(before)
	for _, n := range s.nodes {
		n.endTick(s.nodes)
	}
	s.now += s.cfg.Tick
}

func (s *swarm) result() Result {
	r := Result{Seed: s.cfg.Seed, End: s.now}
	var fromSeeder, total int64
	for _, n := range s.nodes[1:] {
		t := time.Duration(0)
		if n.done {
			t = n.doneAt - n.joinAt
		}
		if n.kind == contributor {
			r.Contributors = append(r.Contributors, t)
			continue
		}
		r.FreeRiders = append(r.FreeRiders, t)
		fromSeeder += n.fromSeeder
		total += n.received
	}
	if total > 0 {
		r.FreeRiderFromSeeder = float64(fromSeeder) / float64(total)
	}
	r.RateRatio = s.rateRatio()
	if s.cfg.Arrival > 0 {
		s.streamResult(&r)
	}
	return r
}
