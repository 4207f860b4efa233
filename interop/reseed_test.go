package interop

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestSwarmReseeds downloads with `swarm get --seed` from a libtorrent seeder, stops that
// seeder, and has an aria2 and a Transmission leecher download everything from the swarm
// client alone: the pieces swarm wrote must be served back intact, and swarm must turn from
// leecher into seeder (announce completion, dial the Transmission leecher it learns of at its
// next announce).
func TestSwarmReseeds(t *testing.T) {
	start(t)
	needSwarm(t)
	ctx := caseContext(t, 2*caseTimeout)
	p := env.payloads[len(env.payloads)-1]
	tr := newTracker(t, kindSwarmTracker)
	tf := mktorrent(t, ctx, p, tr.URL())
	tr.start(t, ctx, tf.InfoHash)

	first := seedLibtorrent(t, ctx, tf, copyPayload(t, p), newHost(t))
	tr.waitSwarm(t, ctx, tf.InfoHash, 1, 0, first.procs...)
	swarmDir := t.TempDir()
	args := append(swarmArgs("get", tf, swarmDir, newHost(t)), "--seed")
	reseeder := &node{procs: []*proc{startProc(t, ctx, "swarm-get-seed", args...)}}
	tr.waitSwarm(t, ctx, tf.InfoHash, 2, 0, reseeder.procs...)
	verifyDownload(t, tf, p.Dir, swarmDir, false)
	first.procs[0].stop()

	began := time.Now()
	leechers := []*clientKind{kindAria2, kindTransmission}
	dirs := make([]string, len(leechers))
	errs := make(chan error, len(leechers))
	for i, k := range leechers {
		dirs[i] = t.TempDir()
		n := k.leech(t, ctx, tf, dirs[i], newHost(t))
		go func() {
			err := waitComplete(ctx, n, reseeder)
			t.Logf("%s done after %v: %v", k.name, time.Since(began).Round(time.Millisecond), err)
			errs <- err
		}()
	}
	for range leechers {
		assert.NoError(t, <-errs)
	}
	for i, k := range leechers {
		verifyDownload(t, tf, p.Dir, dirs[i], k.skipsEmptyFiles)
	}
}
