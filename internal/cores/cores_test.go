package cores

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/internal/cores/corestest"
)

func TestPlan(t *testing.T) {
	tests := []struct {
		name     string
		n        int
		explicit bool
		env      string
		want     int
	}{
		{"default is one core", 0, false, "", 1},
		{"GOMAXPROCS in the environment wins over the default", 0, false, "4", 0},
		{"--cpus 0 means all cores", 0, true, "", 0},
		{"--cpus wins over the environment", 3, true, "4", 3},
		{"negative is all", -2, true, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Plan(tt.n, tt.explicit, tt.env))
		})
	}
}

func TestBudgetLowersAndChecksRaise(t *testing.T) {
	f := corestest.New(8)
	b := New(2, f.Set)
	require.NotNil(t, b)
	assert.Equal(t, 2, f.Get(), "the engine runs on its share")

	done1 := b.Checking()
	assert.Equal(t, 8, f.Get(), "a check runs on every core")
	done2 := b.Checking()
	done1()
	done1() // twice is once
	assert.Equal(t, 8, f.Get(), "a check still runs")
	done2()
	assert.Equal(t, 2, f.Get(), "back to the engine's share after the last check")

	b.Restore()
	assert.Equal(t, 8, f.Get())
	b.Checking()()
	assert.Equal(t, 8, f.Get(), "after Restore checks change nothing")
	assert.Equal(t, []int{2, 8, 2, 8}, f.Sets())
}

func TestBudgetNoChange(t *testing.T) {
	for _, tc := range []struct {
		name   string
		engine int
		procs  int
	}{
		{"all cores asked", 0, 4},
		{"more than the process has", 6, 4},
		{"as many as the process has", 4, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := corestest.New(tc.procs)
			b := New(tc.engine, f.Set)
			b.Checking()()
			b.Restore()
			assert.Equal(t, tc.procs, f.Get())
			assert.Empty(t, slicesWithout(f.Sets(), tc.procs), "never set below the process's count")
		})
	}
	var nilBudget *Budget
	nilBudget.Checking()()
	nilBudget.Restore()
	assert.Nil(t, New(1, nil), "no setter: no budget")
}

func TestBudgetConcurrentChecks(t *testing.T) {
	f := corestest.New(4)
	b := New(1, f.Set)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			done := b.Checking()
			assert.Equal(t, 4, f.Get())
			done()
		})
	}
	wg.Wait()
	assert.Equal(t, 1, f.Get())
}

func slicesWithout(s []int, v int) []int {
	var out []int
	for _, x := range s {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}
