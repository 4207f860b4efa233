package interop

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFastChokeFromLibtorrent: a libtorrent seeder chokes a swarm leecher in the middle of the
// transfer, with requests outstanding, then unchokes it. Both speak the Fast extension (BEP 6),
// so libtorrent rejects the requests it had queued; swarm withdraws every outstanding request
// at the choke (none is left hanging, whatever the peer does), asks nothing while choked (the
// seeder grants no allowed_fast piece), and completes after the unchoke.
func TestFastChokeFromLibtorrent(t *testing.T) {
	start(t)
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	defer cancel()
	pl := singlePayload(t)
	tf := mktorrent(t, ctx, pl, deadTracker)
	seedDir, getDir := copyPayload(t, pl), t.TempDir()
	seedHost := newHost(t)
	// The upload rate keeps the transfer going for several seconds and swarm's requests
	// queued in libtorrent, where its choke rejects them.
	seeder := seedLibtorrentWith(t, ctx, tf, seedDir, seedHost, "--choke-signals", "--upload-rate", "262144")
	lt := seeder.procs[0]
	waitLog(t, ctx, lt, "seeding")
	get := startProc(t, ctx, "swarm-get", append(swarmArgs("get", tf, getDir, newHost(t)), "--peer", seedHost.String())...)
	getNode := exitNode(get)

	// Choke once about a quarter of the payload went up.
	var size int64
	for _, f := range pl.Files {
		size += f.Size
	}
	require.NoError(t, poll(ctx, 100*time.Millisecond, func() (bool, error) {
		return lastInt(t, lt, `progress .* up ([0-9]+)`) >= size/4, nil
	}, lt, get), "libtorrent uploads")
	peerRe := regexp.QuoteMeta("peer=" + seedHost.String())
	choked := `"choked by peer" .*` + peerRe + `.* fast=true withdrawn=([0-9]+) requests=([0-9]+)`
	unchoked := `"unchoked by peer" .*` + peerRe + `.* fast=true choked_for=\S+ withdrawn=([0-9]+) rejected=([0-9]+) late=([0-9]+) sent_while_choked=([0-9]+) requests=([0-9]+)`
	// libtorrent may choke and unchoke on its own (seen under load, for microseconds): the
	// lines to read are the ones that follow each signal.
	nChoked := countLog(t, get, choked)
	require.NoError(t, lt.cmd.Process.Signal(syscall.SIGUSR1))
	require.NoError(t, poll(ctx, 50*time.Millisecond, func() (bool, error) {
		return countLog(t, get, choked) > nChoked, nil
	}, lt, get), "swarm sees the choke")
	m := logMatch(t, get, choked)
	assert.Positive(t, atoi(t, m[1]), "requests were outstanding at the choke")
	assert.Equal(t, "0", m[2], "every outstanding request withdrawn at the choke")

	// Stay choked a while: every request queued in libtorrent is rejected meanwhile.
	time.Sleep(2 * time.Second)
	select {
	case <-get.done:
		t.Fatalf("swarm ended while choked: %v", get.err)
	default:
	}
	nUnchoked := countLog(t, get, unchoked)
	require.NoError(t, lt.cmd.Process.Signal(syscall.SIGUSR2))
	require.NoError(t, poll(ctx, 50*time.Millisecond, func() (bool, error) {
		return countLog(t, get, unchoked) > nUnchoked, nil
	}, lt, get), "swarm sees the unchoke")
	m = logMatch(t, get, unchoked)
	withdrawn, rejected, late := atoi(t, m[1]), atoi(t, m[2]), atoi(t, m[3])
	t.Logf("withdrawn %d, rejected %d, late blocks %d", withdrawn, rejected, late)
	assert.Positive(t, rejected, "libtorrent rejected the requests its choke caught (BEP 6)")
	assert.LessOrEqual(t, rejected+late, withdrawn, "every reject and late block answers a withdrawn request")
	assert.Equal(t, "0", m[4], "nothing asked of a peer that chokes us and allows nothing")
	assert.Equal(t, "0", m[5], "no request outstanding when the choke ends")

	require.NoError(t, waitComplete(ctx, getNode, seeder), "download after the unchoke")
	verifyDownload(t, tf, pl.Dir, getDir, false)
	assert.True(t, logHas(t, get, `have all received.*libtorrent`), "libtorrent's have_all understood")
	assert.Equal(t, 1, countLog(t, lt, "choking every peer"), "one choke")
}

// logMatch returns the submatches of the last line of p's log that matches re.
func logMatch(t *testing.T, p *proc, re string) []string {
	t.Helper()
	m := lastMatch(t, p, re)
	require.NotNil(t, m, "%s logged no %q", p.name, re)
	return m
}

// lastInt is the first submatch of the last line of p's log that matches re, as a number; -1
// when none does yet.
func lastInt(t *testing.T, p *proc, re string) int64 {
	t.Helper()
	m := lastMatch(t, p, re)
	if m == nil {
		return -1
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	require.NoError(t, err)
	return n
}

// lastMatch returns the submatches of the last line of p's log that matches re, or nil.
func lastMatch(t *testing.T, p *proc, re string) []string {
	t.Helper()
	b, err := os.ReadFile(p.log)
	require.NoError(t, err)
	all := regexp.MustCompile(re).FindAllStringSubmatch(string(b), -1)
	if len(all) == 0 {
		return nil
	}
	return all[len(all)-1]
}

func countLog(t *testing.T, p *proc, re string) int {
	t.Helper()
	b, err := os.ReadFile(p.log)
	require.NoError(t, err)
	return len(regexp.MustCompile(re).FindAll(b, -1))
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}
