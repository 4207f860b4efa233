package interop

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSessionTwoTorrentsOnePort: one `swarm seed` process seeds two torrents behind one
// port; a swarm leecher downloads one and a libtorrent leecher the other, both verified by
// sha256.
func TestSessionTwoTorrentsOnePort(t *testing.T) {
	start(t)
	needSwarm(t)
	need(t, toolLibtorrent)
	ctx := caseContext(t, caseTimeout)
	tr := newTracker(t, kindSwarmTracker)
	single, multi := env.payloads[0], env.payloads[1]
	tfA, tfB := mktorrent(t, ctx, single, tr.URL()), mktorrent(t, ctx, multi, tr.URL())
	tr.start(t, ctx, tfA.InfoHash, tfB.InfoHash)

	seedDir := t.TempDir()
	for _, p := range []*payload{single, multi} {
		for _, f := range p.Files {
			rel := filepath.Join(p.Name, f.Path)
			require.NoError(t, copyFile(filepath.Join(p.Dir, rel), filepath.Join(seedDir, rel)))
		}
	}
	h := newHost(t)
	seed := startProc(t, ctx, "swarm-seed-two", env.swarm, "--log-level=debug", "seed", "-q", "--no-dht",
		tfA.Path, tfB.Path, "-d", seedDir, "--bind", h.IP, "--port", strconv.Itoa(h.Port))
	tr.waitSwarm(t, ctx, tfA.InfoHash, 1, 0, seed)
	tr.waitSwarm(t, ctx, tfB.InfoHash, 1, 0, seed)

	dirA, dirB := t.TempDir(), t.TempDir()
	a := leechSwarm(t, ctx, tfA, dirA, newHost(t))
	b := leechLibtorrent(t, ctx, tfB, dirB, newHost(t))
	seeder := &node{procs: []*proc{seed}}
	require.NoError(t, waitComplete(ctx, a, seeder), "swarm leecher of %s", tfA.Name)
	require.NoError(t, waitComplete(ctx, b, seeder), "libtorrent leecher of %s", tfB.Name)
	verifyDownload(t, tfA, single.Dir, dirA, false)
	verifyDownload(t, tfB, multi.Dir, dirB, false)

	log, err := os.ReadFile(seed.log)
	require.NoError(t, err)
	ports := regexp.MustCompile(`msg="swarm started".* config\.port=(\d+)`).FindAllStringSubmatch(string(log), -1)
	require.Len(t, ports, 2)
	assert.Equal(t, strconv.Itoa(h.Port), ports[0][1])
	assert.Equal(t, strconv.Itoa(h.Port), ports[1][1])
}

// bigSize is the payload of the full-speed Transmission case (issue 11: 256 MiB).
const bigSize = 256 << 20

// TestTransmissionLeechesFullSpeed: a Transmission leecher downloads 256 MiB from a swarm
// seeder at full speed without ever being disconnected (it keeps over 2,048 requests
// outstanding, which swarm used to treat as a violation), in at most 1.5x the time it takes
// from a libtorrent seeder in the same run.
func TestTransmissionLeechesFullSpeed(t *testing.T) {
	start(t)
	needSwarm(t)
	need(t, toolLibtorrent)
	need(t, toolTransmission)
	ctx := caseContext(t, 6*time.Minute)
	src := t.TempDir()
	require.NoError(t, writeRandom(filepath.Join(src, "big.bin"), bigSize, rand.New(rand.NewPCG(11, 11))))
	p := &payload{Label: "big", Dir: src, Name: "big.bin", Files: []payloadFile{{"", bigSize}}}
	tr := newTracker(t, kindSwarmTracker)
	tf := mktorrent(t, ctx, p, tr.URL())
	tr.start(t, ctx, tf.InfoHash)

	fromLT, _ := fullSpeedRun(t, ctx, tr, tf, p, kindLibtorrent)
	fromSwarm, seedLog := fullSpeedRun(t, ctx, tr, tf, p, kindSwarm)
	t.Logf("Transmission took %v from libtorrent, %v from swarm (%.2fx)", fromLT.took.Round(time.Millisecond),
		fromSwarm.took.Round(time.Millisecond), fromSwarm.took.Seconds()/fromLT.took.Seconds())
	assert.LessOrEqual(t, fromSwarm.took.Seconds(), 1.5*fromLT.took.Seconds(), "at most 1.5x libtorrent's time")

	log := string(seedLog)
	connected := regexp.MustCompile(`msg="peer connected".* peer=`+regexp.QuoteMeta(fromSwarm.leecher.IP)+`:`).FindAllString(log, -1)
	assert.Len(t, connected, 1, "Transmission was connected once: never dropped and back")
	assert.NotContains(t, log, "requests queued")
	assert.NotContains(t, log, "requests beyond the queue cap dropped", "it never had to drop a request")
	assert.NotContains(t, log, "send queue full")
}

// fullRun is one seeder-to-Transmission transfer of the full-speed case.
type fullRun struct {
	took    time.Duration // from the seeder's start to Transmission at 100%
	leecher host
}

// fullSpeedRun has a fresh Transmission leecher announce, starts the seeder (which dials it:
// Transmission takes no loopback peers from trackers) and times the download. It returns the
// seeder's log when the seeder is swarm.
func fullSpeedRun(t *testing.T, ctx context.Context, tr *tracker, tf *torrentFile, p *payload, seeder *clientKind) (fullRun, []byte) {
	t.Helper()
	run := fullRun{leecher: newHost(t)}
	dir := t.TempDir()
	leecher := leechTransmission(t, ctx, tf, dir, run.leecher)
	tr.waitSwarm(t, ctx, tf.InfoHash, 0, 1, leecher.procs...)
	began := time.Now()
	sn := seeder.seed(t, ctx, tf, p.Dir, newHost(t))
	require.NoError(t, waitComplete(ctx, leecher, sn), "Transmission from %s", seeder.name)
	run.took = time.Since(began)
	verifyDownload(t, tf, p.Dir, dir, true)
	for _, pr := range append(leecher.procs, sn.procs...) {
		pr.stop()
	}
	var log []byte
	if seeder == kindSwarm {
		var err error
		log, err = os.ReadFile(sn.procs[0].log)
		require.NoError(t, err)
	}
	return run, log
}
