// Package corestest has a stand-in for runtime.GOMAXPROCS, for tests of code that takes a
// setter (cores.New, the CLI's app).
package corestest

import "sync"

// Procs records GOMAXPROCS changes the way runtime.GOMAXPROCS makes them: Set returns the
// previous value, and 0 only reads. Safe for concurrent use.
type Procs struct {
	mu   sync.Mutex
	n    int
	sets []int
}

// New returns a Procs that starts at n.
func New(n int) *Procs { return &Procs{n: n} }

// Set is the stand-in for runtime.GOMAXPROCS.
func (p *Procs) Set(n int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.n
	if n > 0 {
		p.n = n
		p.sets = append(p.sets, n)
	}
	return old
}

// Get is the current value.
func (p *Procs) Get() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

// Sets lists every change, in order (nil if none).
func (p *Procs) Sets() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sets
}
