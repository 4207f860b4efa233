// Package cores decides how many cores the process's Go code runs on (GOMAXPROCS) while it
// moves torrent data, and lets content checks use every core meanwhile.
//
// Why fewer cores: one torrent's data passes from goroutine to goroutine (a connection's
// reader, the torrent's loop, a disk worker, a connection's writer). With several Ps each
// hand-off may wake another OS thread, which spins looking for work and sleeps again, and
// the block then changes cores, cache and all. On one P the same hand-offs are plain
// goroutine switches. Measured on 2 cores (docs/engine.md): a 1 GiB leecher spends 1.2
// CPU-s instead of 1.7, and among four leechers and a seeder each finishes in 5.2 s instead
// of 7.6. One core moves about 800 MB/s of verified data, more than most links; more cores
// pay off only for a process with much parallel work (many fast torrents, or `swarm demo`,
// a whole swarm in one process). Hashing content already on disk is such work, so a Budget
// raises GOMAXPROCS to every core while a check runs.
package cores

import "sync"

// Budget holds GOMAXPROCS at the engine's share, raised to every core while at least one
// content check runs. A nil *Budget changes nothing (the process keeps its GOMAXPROCS).
type Budget struct {
	mu     sync.Mutex
	engine int // GOMAXPROCS while no check runs
	all    int // GOMAXPROCS during checks: what the process had at start
	checks int
	set    func(int) int
}

// Plan returns how many cores the engine should run on: n from a --cpus flag (0: all of
// them) when given explicitly, else one unless GOMAXPROCS is set in the environment (the
// user chose then). 0 means leave GOMAXPROCS as it is.
func Plan(n int, explicit bool, env string) int {
	switch {
	case explicit:
		return max(n, 0)
	case env != "":
		return 0
	default:
		return 1
	}
}

// New returns a Budget that runs the process on engine cores (at most the GOMAXPROCS it has)
// from now on, through set: runtime.GOMAXPROCS, or a fake in tests. It returns nil, leaving
// GOMAXPROCS alone, when engine is 0 or set is nil.
func New(engine int, set func(int) int) *Budget {
	if engine <= 0 || set == nil {
		return nil
	}
	b := &Budget{all: set(0), set: set}
	b.engine = min(engine, b.all)
	if b.engine < b.all {
		set(b.engine)
	}
	return b
}

// Checking raises GOMAXPROCS to every core until done is called; checks may overlap, and
// the engine's share returns when the last one ends. Safe for concurrent use.
func (b *Budget) Checking() (done func()) {
	if b == nil {
		return func() {}
	}
	b.mu.Lock()
	b.checks++
	if b.checks == 1 && b.engine < b.all {
		b.set(b.all)
	}
	b.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			b.checks--
			if b.checks == 0 && b.engine < b.all {
				b.set(b.engine)
			}
			b.mu.Unlock()
		})
	}
}

// Restore gives the process back the GOMAXPROCS it had before New.
func (b *Budget) Restore() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.set(b.all)
	b.engine = b.all // later checks change nothing
}
