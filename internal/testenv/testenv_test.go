package testenv

import (
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
)

// recorder is a testing.TB that records how a helper ended the test instead of ending it.
type recorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper() {}
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// call runs f with a recorder in its own goroutine, as the testing package runs a test, so
// that Goexit ends only f.
func call(t *testing.T, f func(testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

func TestMissing(t *testing.T) {
	errGone := errors.New("gone")
	cases := []struct {
		name            string
		env, value      string
		f               func(testing.TB)
		skipped, failed bool
	}{
		{"capability skips by default", "SWARM_STRICT", "", func(tb testing.TB) { MissingCapability(tb, "mount", errGone) }, true, false},
		{"capability fails when strict", "SWARM_STRICT", "1", func(tb testing.TB) { MissingCapability(tb, "mount", errGone) }, false, true},
		{"interop does not make a capability fail", "SWARM_INTEROP", "1", func(tb testing.TB) { MissingCapability(tb, "mount", errGone) }, true, false},
		{"tool skips by default", "SWARM_INTEROP", "", func(tb testing.TB) { MissingTool(tb, "x", errGone) }, true, false},
		{"tool fails under interop", "SWARM_INTEROP", "1", func(tb testing.TB) { MissingTool(tb, "x", errGone) }, false, true},
		{"strict does not make a tool fail", "SWARM_STRICT", "1", func(tb testing.TB) { MissingTool(tb, "x", errGone) }, true, false},
		{"a program not on PATH is missing", "SWARM_INTEROP", "1", func(tb testing.TB) { NeedTools(tb, "sh", "no-such-program-swarm") }, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("SWARM_STRICT", "")
			t.Setenv("SWARM_INTEROP", "")
			t.Setenv(c.env, c.value)
			r := call(t, c.f)
			assert.Equal(t, c.skipped, r.skipped, r.msg)
			assert.Equal(t, c.failed, r.failed, r.msg)
			assert.Contains(t, r.msg, "SWARM_")
		})
	}
}

func TestNeedToolsFindsPrograms(t *testing.T) {
	t.Setenv("SWARM_INTEROP", "1")
	r := call(t, func(tb testing.TB) {
		paths := NeedTools(tb, "sh")
		assert.NotEmpty(t, paths[0])
	})
	assert.False(t, r.failed || r.skipped, r.msg)
}
