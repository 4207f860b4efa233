package interop

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// creator is a reference tool that makes torrents.
type creator struct {
	name string
	make func(t *testing.T, ctx context.Context, p *payload, url string) *torrentFile
}

var creators = []creator{
	{"mktorrent", mktorrent},
	{"transmission-create", transmissionCreate},
	{"libtorrent", ltCreate},
}

// transmissionCreate leaves 0-byte files out and writes private=0 into the info dictionary.
func transmissionCreate(t *testing.T, ctx context.Context, p *payload, url string) *torrentFile {
	t.Helper()
	need(t, toolTransmissionCreate)
	out := filepath.Join(t.TempDir(), p.Label+".tc.torrent")
	_, err := run(ctx, "transmission-create", "-o", out, "-t", url,
		"-s", fmt.Sprint(pieceLength>>10), p.Root())
	require.NoError(t, err)
	return readTorrent(t, out)
}

// ltCreate makes a v1-only torrent with libtorrent's create_torrent (files in directory-walk
// order, so multi-file info-hashes differ from mktorrent's).
func ltCreate(t *testing.T, ctx context.Context, p *payload, url string) *torrentFile {
	t.Helper()
	need(t, toolLibtorrent)
	out := filepath.Join(t.TempDir(), p.Label+".lt.torrent")
	_, err := run(ctx, systemPython, ltScript(t), "create", "--path", p.Root(), "--out", out,
		"--announce", url, "--piece-length", fmt.Sprint(pieceLength))
	require.NoError(t, err)
	return readTorrent(t, out)
}

// TestClientCreatedTorrentsInSwarm loads torrents made by each reference creator with
// `swarm info` (which must print the info-hash of the raw info bytes), then downloads the
// payload with `swarm get` from a libtorrent seeder using that torrent.
func TestClientCreatedTorrentsInSwarm(t *testing.T) {
	interopOnly(t)
	for _, c := range creators {
		for _, p := range env.payloads {
			t.Run(c.name+"/"+p.Label, func(t *testing.T) {
				start(t)
				ctx := caseContext(t, caseTimeout)
				tr := newTracker(t, kindOpentracker)
				tf := c.make(t, ctx, p, tr.URL())
				needSwarm(t)
				out, err := run(ctx, env.swarm, "info", tf.Path)
				require.NoError(t, err)
				assert.Contains(t, out, tf.InfoHash, "swarm info output")
				assert.Contains(t, out, tf.Name, "swarm info output")
				tr.start(t, ctx, tf.InfoHash)
				seeder := seedLibtorrent(t, ctx, tf, copyPayload(t, p), newHost(t))
				tr.waitSwarm(t, ctx, tf.InfoHash, 1, 0, seeder.procs...)
				dir := t.TempDir()
				leecher := leechSwarm(t, ctx, tf, dir, newHost(t))
				require.NoError(t, waitComplete(ctx, leecher, seeder), "download")
				verifyDownload(t, tf, p.Dir, dir, false)
			})
		}
	}
}

// TestMixedSwarm has one swarm seeder serve leechers of all four kinds at once through the
// swarm tracker. The leechers start first, so that the seeder's first announce lists them all
// (Transmission only takes incoming connections); they also trade pieces among themselves.
func TestMixedSwarm(t *testing.T) {
	start(t)
	ctx := caseContext(t, 2*caseTimeout)
	p := env.payloads[len(env.payloads)-1]
	tr := newTracker(t, kindSwarmTracker)
	tf := mktorrent(t, ctx, p, tr.URL())
	tr.start(t, ctx, tf.InfoHash)
	dirs := map[*clientKind]string{}
	nodes := map[*clientKind]*node{}
	for _, k := range clientKinds {
		dirs[k] = t.TempDir()
		nodes[k] = k.leech(t, ctx, tf, dirs[k], newHost(t))
	}
	tr.waitSwarm(t, ctx, tf.InfoHash, 0, len(clientKinds))
	seeder := seedSwarm(t, ctx, tf, copyPayload(t, p), newHost(t))
	began := time.Now()
	errs := make(chan error, len(clientKinds))
	for _, k := range clientKinds {
		go func() {
			err := waitComplete(ctx, nodes[k], seeder)
			if err == nil {
				t.Logf("%s complete after %v", k.name, time.Since(began).Round(time.Millisecond))
			}
			errs <- err
		}()
	}
	for range clientKinds {
		assert.NoError(t, <-errs)
	}
	for _, k := range clientKinds {
		verifyDownload(t, tf, p.Dir, dirs[k], k.skipsEmptyFiles)
	}
}
