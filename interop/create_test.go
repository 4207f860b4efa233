package interop

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deadTracker is an announce URL nobody listens on, for torrents that are only loaded.
const deadTracker = "http://127.0.0.1:9/announce"

// swarmCreate makes a torrent of p with the swarm binary.
func swarmCreate(t *testing.T, ctx context.Context, p *payload, url string) *torrentFile {
	t.Helper()
	needSwarm(t)
	out := filepath.Join(t.TempDir(), p.Label+".swarm.torrent")
	_, err := run(ctx, env.swarm, "create", "-q", p.Root(), "-o", out, "-a", url,
		"--piece-length", fmt.Sprint(pieceLength), "--no-date")
	require.NoError(t, err)
	return readTorrent(t, out)
}

// TestSwarmCreatedTorrentsLoad makes each payload's torrent with `swarm create` and checks that
// it has mktorrent's info-hash, that every reference client reads the same info-hash from it,
// and that each of them verifies the payload against it as complete.
func TestSwarmCreatedTorrentsLoad(t *testing.T) {
	interopOnly(t)
	for _, p := range env.payloads {
		t.Run(p.Label+"/same-infohash-as-mktorrent", func(t *testing.T) {
			start(t)
			ctx := caseContext(t, 30*time.Second)
			assert.Equal(t, mktorrent(t, ctx, p, deadTracker).InfoHash, swarmCreate(t, ctx, p, deadTracker).InfoHash)
		})
		for _, c := range checkers {
			t.Run(p.Label+"/"+c.name, func(t *testing.T) {
				start(t)
				ctx := caseContext(t, 60*time.Second)
				tf := swarmCreate(t, ctx, p, deadTracker)
				assert.Equal(t, tf.InfoHash, c.infoHash(t, ctx, tf), "info-hash %s reads", c.name)
				c.check(t, ctx, tf, copyPayload(t, p))
			})
		}
	}
}

// caseContext is a context bounded by d and cancelled when the test ends.
func caseContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// checker is a reference client reading a torrent: the info-hash it prints, and a full check
// of local data against the torrent's piece hashes.
type checker struct {
	name     string
	infoHash func(t *testing.T, ctx context.Context, tf *torrentFile) string
	check    func(t *testing.T, ctx context.Context, tf *torrentFile, dir string)
}

var checkers = []checker{
	{"libtorrent", ltInfoHash, ltCheck},
	{"transmission", transmissionInfoHash, transmissionCheck},
	{"aria2", aria2InfoHash, aria2Check},
}

// firstMatch runs argv and returns the first submatch of re in its output.
func firstMatch(t *testing.T, ctx context.Context, re *regexp.Regexp, argv ...string) string {
	t.Helper()
	out, err := run(ctx, argv...)
	require.NoError(t, err)
	m := re.FindStringSubmatch(out)
	require.NotNil(t, m, "%s printed no %s:\n%s", argv[0], re, out)
	return strings.ToLower(m[1])
}

func ltInfoHash(t *testing.T, ctx context.Context, tf *torrentFile) string {
	need(t, toolLibtorrent)
	return firstMatch(t, ctx, regexp.MustCompile(`infohash ([0-9a-f]{40})`),
		systemPython, ltScript(t), "info", "--torrent", tf.Path)
}

func ltCheck(t *testing.T, ctx context.Context, tf *torrentFile, dir string) {
	p := startProc(t, ctx, "libtorrent-check", ltArgs(t, "check", tf, dir, newHost(t))...)
	require.NoError(t, p.wait(ctx), "libtorrent checking the payload")
}

func transmissionInfoHash(t *testing.T, ctx context.Context, tf *torrentFile) string {
	need(t, toolTransmissionCreate)
	return firstMatch(t, ctx, regexp.MustCompile(`(?m)^\s*Hash:\s*([0-9a-fA-F]{40})`),
		"transmission-show", tf.Path)
}

func transmissionCheck(t *testing.T, ctx context.Context, tf *torrentFile, dir string) {
	d := startDaemon(t, ctx, "transmission-check", newHost(t), dir, false)
	d.add(t, ctx, tf, dir)
	_, err := d.remote(ctx, "-t", "1", "--verify")
	require.NoError(t, err)
	require.NoError(t, d.waitDone(ctx, "Stopped"), "transmission verifying the payload")
}

func aria2InfoHash(t *testing.T, ctx context.Context, tf *torrentFile) string {
	need(t, toolAria2)
	return firstMatch(t, ctx, regexp.MustCompile(`Info Hash: ([0-9a-fA-F]{40})`), "aria2c", "-S", tf.Path)
}

// aria2Check verifies the payload and, with nothing left to download, exits 0 at once; data
// that does not match would have it wait for peers until the context ends.
func aria2Check(t *testing.T, ctx context.Context, tf *torrentFile, dir string) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	args := append(aria2Args(tf, dir, newHost(t)),
		"--check-integrity=true", "--bt-seed-unverified=false", "--seed-time=0")
	p := startProc(t, ctx, "aria2-check", args...)
	require.NoError(t, p.wait(ctx), "aria2 checking the payload")
}
