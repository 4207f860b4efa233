package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Magnet links (BEP 9), peer exchange (BEP 11) and the Fast extension (BEP 6) against
// libtorrent and aria2. Each case uses the small single-file payload and runs in parallel.

// magnetLink is tf's magnet link with optional trackers and x.pe peers.
func magnetLink(tf *torrentFile, trackers []string, peers ...host) string {
	q := "magnet:?xt=urn:btih:" + tf.InfoHash + "&dn=" + url.QueryEscape(tf.Name)
	for _, tr := range trackers {
		q += "&tr=" + url.QueryEscape(tr)
	}
	for _, p := range peers {
		q += "&x.pe=" + p.String()
	}
	return q
}

func singlePayload(t *testing.T) *payload {
	t.Helper()
	for _, p := range env.payloads {
		if p.Label == "single" {
			return p
		}
	}
	t.Fatal("no single payload")
	return nil
}

// swarmGetMagnet runs swarm get on a magnet link, with its own metadata cache.
func swarmGetMagnet(t *testing.T, ctx context.Context, link, dir string, h host, extra ...string) *proc {
	t.Helper()
	needSwarm(t)
	args := append([]string{env.swarm, "--log-level=debug", "get", "-q", link, "-d", dir, "--bind", h.IP,
		"--port", fmt.Sprint(h.Port), "--metadata-cache", t.TempDir(), "--no-dht"}, extra...)
	return startProc(t, ctx, "swarm-get-magnet", args...)
}

// waitLog waits until p's log has a line matching re.
func waitLog(t *testing.T, ctx context.Context, p *proc, re string) {
	t.Helper()
	rx := regexp.MustCompile(re)
	err := poll(ctx, 100*time.Millisecond, func() (bool, error) {
		b, err := os.ReadFile(p.log)
		return err == nil && rx.Match(b), nil
	}, p)
	require.NoError(t, err, "%s never logged %q", p.name, re)
}

func logHas(t *testing.T, p *proc, re string) bool {
	t.Helper()
	b, err := os.ReadFile(p.log)
	require.NoError(t, err)
	return regexp.MustCompile(re).Match(b)
}

// TestMagnetFromLibtorrent: swarm get MAGNET from a libtorrent seeder, once with only the
// link's x.pe (no tracker at all) and once with only its tr=. Both sides speak the Fast
// extension: swarm's log shows the connection's fast flag and libtorrent's have_all.
func TestMagnetFromLibtorrent(t *testing.T) {
	for _, viaTracker := range []bool{false, true} {
		name := "x.pe"
		if viaTracker {
			name = "tr"
		}
		t.Run(name, func(t *testing.T) {
			start(t)
			ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
			defer cancel()
			pl := singlePayload(t)
			seedDir, getDir := copyPayload(t, pl), t.TempDir()
			seedHost, getHost := newHost(t), newHost(t)
			var trackers []string
			var tr *tracker
			announce := deadTracker
			if viaTracker {
				tr = newTracker(t, kindSwarmTracker)
				announce = tr.URL()
				trackers = []string{tr.URL()}
			}
			tf := mktorrent(t, ctx, pl, announce)
			if tr != nil {
				tr.start(t, ctx, tf.InfoHash)
			}
			seeder := seedLibtorrentWith(t, ctx, tf, seedDir, seedHost, "--plugins")
			waitLog(t, ctx, seeder.procs[0], "seeding")
			if tr != nil {
				tr.waitSwarm(t, ctx, tf.InfoHash, 1, 0, seeder.procs...)
			}
			var peers []host
			if !viaTracker {
				peers = []host{seedHost}
			}
			get := swarmGetMagnet(t, ctx, magnetLink(tf, trackers, peers...), getDir, getHost)
			require.NoError(t, waitComplete(ctx, exitNode(get), seeder), "download")
			verifyDownload(t, tf, pl.Dir, getDir, false)
			assert.True(t, logHas(t, get, "metadata verified"), "metadata fetched")
			assert.True(t, logHas(t, get, `peer connected.*fast=true`), "Fast negotiated with libtorrent")
			assert.True(t, logHas(t, get, `have all received.*libtorrent`), "libtorrent's have_all understood")
		})
	}
}

// TestMagnetFromAria2: swarm get MAGNET (x.pe) from an aria2 seeder.
func TestMagnetFromAria2(t *testing.T) {
	start(t)
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	defer cancel()
	pl := singlePayload(t)
	tr := newTracker(t, kindSwarmTracker)
	tf := mktorrent(t, ctx, pl, tr.URL())
	tr.start(t, ctx, tf.InfoHash)
	seedDir, getDir := copyPayload(t, pl), t.TempDir()
	seedHost := newHost(t)
	seeder := seedAria2(t, ctx, tf, seedDir, seedHost)
	tr.waitSwarm(t, ctx, tf.InfoHash, 1, 0, seeder.procs...)
	get := swarmGetMagnet(t, ctx, magnetLink(tf, nil, seedHost), getDir, newHost(t))
	require.NoError(t, waitComplete(ctx, exitNode(get), seeder), "download")
	verifyDownload(t, tf, pl.Dir, getDir, false)
	assert.True(t, logHas(t, get, "metadata verified"))
}

// TestMagnetToLibtorrent: a libtorrent magnet leecher (no tracker, swarm's address given
// directly) fetches the metadata from a swarm seeder and downloads; swarm sent have_all.
func TestMagnetToLibtorrent(t *testing.T) {
	start(t)
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	defer cancel()
	pl := singlePayload(t)
	tr := newTracker(t, kindSwarmTracker)
	tf := mktorrent(t, ctx, pl, tr.URL())
	tr.start(t, ctx, tf.InfoHash)
	seedDir, getDir := copyPayload(t, pl), t.TempDir()
	seedHost := newHost(t)
	seeder := seedSwarm(t, ctx, tf, seedDir, seedHost)
	tr.waitSwarm(t, ctx, tf.InfoHash, 1, 0, seeder.procs...)
	need(t, toolLibtorrent)
	lt := startProc(t, ctx, "libtorrent-magnet", systemPython, ltScript(t), "magnet", "--plugins",
		"--magnet", magnetLink(tf, nil), "--peer", seedHost.String(), "--dir", getDir, "--listen", newHost(t).String())
	require.NoError(t, waitComplete(ctx, exitNode(lt), seeder), "download")
	verifyDownload(t, tf, pl.Dir, getDir, false)
	assert.True(t, logHas(t, lt, `metadata [0-9.]+ s`), "libtorrent got the metadata")
	assert.True(t, logHas(t, seeder.procs[0], "have all sent"), "swarm sent have_all to libtorrent")
}

// TestMagnetToAria2: aria2c given only a magnet link (the tracker in tr=) fetches the
// metadata from a swarm seeder and downloads.
func TestMagnetToAria2(t *testing.T) {
	start(t)
	need(t, toolAria2)
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	defer cancel()
	pl := singlePayload(t)
	tr := newTracker(t, kindSwarmTracker)
	tf := mktorrent(t, ctx, pl, tr.URL())
	tr.start(t, ctx, tf.InfoHash)
	seedDir, getDir := copyPayload(t, pl), t.TempDir()
	h := newHost(t)
	args := []string{"aria2c", "--no-conf=true",
		"--interface=" + h.IP, fmt.Sprintf("--listen-port=%d", h.Port), "--disable-ipv6=true",
		"--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false",
		"--enable-peer-exchange=false", "--file-allocation=falloc", "--bt-tracker-interval=2",
		"--auto-file-renaming=false", "--bt-save-metadata=false", "--summary-interval=1",
		"--log=-", "--log-level=info", "--console-log-level=notice", "--seed-time=0",
		fmt.Sprintf("--stop-with-process=%d", os.Getpid()), "--dir=" + getDir,
		magnetLink(tf, []string{tr.URL()})}
	aria := startProc(t, ctx, "aria2-magnet", args...)
	// aria2 announces a magnet with left=0, so a tracker that lists only leechers to a seed
	// never introduces it: the seeder dials it.
	seeder := seedSwarmWith(t, ctx, tf, seedDir, newHost(t), "--peer", h.String())
	require.NoError(t, waitComplete(ctx, exitNode(aria), seeder), "download")
	verifyDownload(t, tf, pl.Dir, getDir, false)
}

// statsPeers reads the peers of swarm's --stats file.
func statsPeers(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var st struct {
		Torrents []struct {
			Peers []map[string]any `json:"peers"`
		} `json:"torrents"`
	}
	require.NoError(t, json.Unmarshal(b, &st))
	require.Len(t, st.Torrents, 1)
	return st.Torrents[0].Peers
}

// TestPEXFromLibtorrent: a swarm leecher that knows only a libtorrent seeder (--peer, no
// tracker) learns a second leecher (libtorrent) through the seeder's PEX, connects to it,
// and its --stats show that peer's source as pex.
func TestPEXFromLibtorrent(t *testing.T) {
	start(t)
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	defer cancel()
	pl := singlePayload(t)
	tf := mktorrent(t, ctx, pl, deadTracker)
	seedDir := copyPayload(t, pl)
	seedHost, otherHost, getHost := newHost(t), newHost(t), newHost(t)
	// The second leecher downloads slowly, so that it still leeches when PEX goes round. The
	// seeder dials it: libtorrent's PEX always lists peers it connected to (others only once
	// their listen port is known), and gives a new peer its full list at once, changes only
	// once a minute after that, so the second leecher must be connected before swarm arrives.
	// The second leecher runs without PEX: with it, it could learn swarm's address from the
	// seeder and dial first, and swarm would rightly record that peer as incoming.
	other := leechLibtorrentWith(t, ctx, tf, t.TempDir(), otherHost, "--download-rate", "150000")
	waitLog(t, ctx, other.procs[0], "listen_succeeded_alert")
	seeder := seedLibtorrentWith(t, ctx, tf, seedDir, seedHost, "--plugins", "--peer", otherHost.String())
	waitLog(t, ctx, other.procs[0], "state downloading peers [1-9] down [1-9]")
	statsPath := filepath.Join(t.TempDir(), "stats.json")
	getDir := t.TempDir()
	get := startProc(t, ctx, "swarm-get", append(swarmArgs("get", tf, getDir, getHost),
		"--peer", seedHost.String(), "--stats", statsPath, "--down-rate", "300KB/s")...)
	require.NoError(t, waitComplete(ctx, exitNode(get), seeder, other), "download")
	verifyDownload(t, tf, pl.Dir, getDir, false)
	var sources []string
	for _, p := range statsPeers(t, statsPath) {
		sources = append(sources, fmt.Sprint(p["addr"], "=", p["source"]))
	}
	assert.Contains(t, sources, otherHost.String()+"=pex", "the second leecher came through PEX")
}

// TestPEXToLibtorrent: a libtorrent leecher connected only to a swarm seeder learns a second
// leecher (swarm) from swarm's PEX: its peer list shows a peer whose source has the PEX bit.
func TestPEXToLibtorrent(t *testing.T) {
	start(t)
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	defer cancel()
	pl := singlePayload(t)
	tf := mktorrent(t, ctx, pl, deadTracker)
	seedDir := copyPayload(t, pl)
	seedHost, ltHost, otherHost := newHost(t), newHost(t), newHost(t)
	seeder := seedSwarmWith(t, ctx, tf, seedDir, seedHost, "--up-rate", "400KB/s")
	waitLog(t, ctx, seeder.procs[0], "swarm started")
	need(t, toolLibtorrent)
	lt := leechLibtorrentWith(t, ctx, tf, t.TempDir(), ltHost, "--plugins", "--peer", seedHost.String())
	other := leechSwarmWith(t, ctx, tf, t.TempDir(), otherHost, "--peer", seedHost.String())
	require.NoError(t, waitComplete(ctx, lt, seeder), "download")
	_ = other
	assert.True(t, pexSourced(t, lt.procs[0], otherHost.IP), "libtorrent lists %s with the PEX source bit", otherHost.IP)
	assert.True(t, logHas(t, seeder.procs[0], "pex sent"), "swarm sent PEX")
}

// pexSourced reports whether lt.py logged a peer at ip whose source has the PEX bit (4).
func pexSourced(t *testing.T, p *proc, ip string) bool {
	t.Helper()
	f, err := os.Open(p.log)
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		// "HH:MM:SS peer IP:PORT client C... source N flags F"
		if len(fields) < 4 || fields[1] != "peer" || !strings.HasPrefix(fields[2], ip+":") {
			continue
		}
		for i, f := range fields {
			if f == "source" && i+1 < len(fields) {
				if n, err := strconv.Atoi(fields[i+1]); err == nil && n&4 != 0 {
					return true
				}
			}
		}
	}
	return false
}
