package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/swarm-bt/swarm/internal/cores/corestest"
)

// TestGetRunsOnItsCores: get moves data on --cpus cores (default one), checks the content
// on every core, and gives the process its cores back at the end; --cpus 0 and GOMAXPROCS in
// the environment leave them alone.
func TestGetRunsOnItsCores(t *testing.T) {
	for _, tc := range []struct {
		name  string
		env   string
		extra []string
		want  []int
	}{
		{"default", "", nil, []int{1, 4, 1, 4}},
		{"--cpus 2", "", []string{"--cpus", "2"}, []int{2, 4, 2, 4}},
		{"--cpus 0", "", []string{"--cpus", "0"}, nil},
		{"GOMAXPROCS set", "3", nil, nil},
		{"--cpus over GOMAXPROCS", "3", []string{"--cpus", "1"}, []int{1, 4, 1, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOMAXPROCS", tc.env) // empty counts as unset
			procs := corestest.New(4)
			getKnownPeer(t, &app{setProcs: procs.Set, pollEvery: 50 * time.Millisecond}, "swarm get did not finish", tc.extra...)
			assert.Equal(t, tc.want, procs.Sets())
		})
	}
}
