package interop

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// caseTimeout bounds one transfer case. A few MiB take a second or two between most clients;
// Transmission as a seeder waits a 10 s choke round before its first unchoke.
const caseTimeout = 90 * time.Second

// pair is one transfer case: seeder to leecher through a tracker, for one payload.
type pair struct {
	tracker *trackerKind
	seeder  *clientKind
	leecher *clientKind
	payload *payload
}

// name reads like "opentracker/swarm-to-transmission/multi".
func (pr pair) name() string {
	return pr.tracker.name + "/" + pr.seeder.name + "-to-" + pr.leecher.name + "/" + pr.payload.Label
}

// feasible reports whether the two clients can meet at all: one of them must open the
// connection. Transmission ignores loopback peers from trackers, so a Transmission leecher
// needs a seeder that dials out, which a Transmission seeder does not either.
func (pr pair) feasible() bool {
	return pr.leecher.usesTrackerPeers || pr.seeder.seedDialsOut
}

// transfer runs one pair and checks every downloaded file's sha256.
func transfer(t *testing.T, pr pair) {
	if !pr.feasible() {
		t.Skipf("%s never dials and %s takes no tracker peers: they cannot meet", pr.seeder.name, pr.leecher.name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	t.Cleanup(cancel)
	tr := newTracker(t, pr.tracker)
	tf := mktorrent(t, ctx, pr.payload, tr.URL())
	tr.start(t, ctx, tf.InfoHash)
	seedDir, getDir := copyPayload(t, pr.payload), t.TempDir()

	began := time.Now()
	var seeder, leecher *node
	if pr.leecher.usesTrackerPeers {
		// The seeder goes first and must be listed as complete before the leecher asks.
		seeder = pr.seeder.seed(t, ctx, tf, seedDir, newHost(t))
		tr.waitSwarm(t, ctx, tf.InfoHash, 1, 0, seeder.procs...)
		t.Logf("%s seeding after %v", pr.seeder.name, time.Since(began).Round(time.Millisecond))
		leecher = pr.leecher.leech(t, ctx, tf, getDir, newHost(t))
	} else {
		// The leecher goes first so that the seeder's first announce lists it and the seeder
		// dials it: that works with any announce interval (opentracker's is 30 minutes).
		leecher = pr.leecher.leech(t, ctx, tf, getDir, newHost(t))
		tr.waitSwarm(t, ctx, tf.InfoHash, 0, 1, leecher.procs...)
		t.Logf("%s announced after %v", pr.leecher.name, time.Since(began).Round(time.Millisecond))
		seeder = pr.seeder.seed(t, ctx, tf, seedDir, newHost(t))
	}
	require.NoError(t, waitComplete(ctx, leecher, seeder), "download")
	t.Logf("%s complete after %v", pr.leecher.name, time.Since(began).Round(time.Millisecond))
	verifyDownload(t, tf, pr.payload.Dir, getDir, pr.leecher.skipsEmptyFiles)
}

// waitComplete waits for the leecher to finish, failing early if one of the others (a seeder,
// the tracker) exits.
func waitComplete(ctx context.Context, leecher *node, others ...*node) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := make(chan struct{})
	defer close(stop)
	for _, o := range others {
		for _, p := range o.procs {
			go func() {
				select {
				case <-p.done:
					cancel(&earlyExit{p})
				case <-stop:
				}
			}()
		}
	}
	err := leecher.complete(ctx)
	if cause := context.Cause(ctx); err != nil && cause != nil && cause != ctx.Err() {
		return cause
	}
	return err
}

// earlyExit says which process ended before the download completed.
type earlyExit struct{ p *proc }

func (e *earlyExit) Error() string {
	return e.p.name + " exited before the download completed: " + errString(e.p.err)
}

func errString(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}
