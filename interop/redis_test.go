package interop

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/tracker/redisstore/redistest"
)

// TestRedisSharedTrackers runs two `swarm tracker` processes, on 127.0.0.2 and 127.0.0.3,
// over one Redis (a server, then a three-node cluster): a libtorrent seeder announces to the
// first only, a swarm leecher to the second only, so they can meet only through the shared
// store. The download completes, and scrapes of either tracker agree (issue 15).
func TestRedisSharedTrackers(t *testing.T) {
	interopOnly(t)
	for _, mode := range []string{"server", "cluster"} {
		t.Run(mode, func(t *testing.T) {
			start(t)
			var url string
			if mode == "server" {
				url = redistest.Start(t).URL()
			} else {
				url = redistest.StartCluster(t).URL()
			}
			sharedRedisTransfer(t, url)
		})
	}
}

func sharedRedisTransfer(t *testing.T, storeURL string) {
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	t.Cleanup(cancel)
	var trs []*tracker
	for i, ip := range []string{"127.0.0.2", "127.0.0.3"} {
		tr := &tracker{kind: kindSwarmTracker, addr: fmt.Sprintf("%s:%d", ip, freePort(t, ip))}
		needSwarm(t)
		tr.proc = startProc(t, ctx, fmt.Sprintf("swarm-tracker-%d", i), env.swarm, "--log-level=debug", "tracker",
			"--listen", tr.addr, "--interval", announceInterval, "--store", storeURL, "--udp", "off")
		waitListening(t, ctx, tr.addr, tr.proc)
		trs = append(trs, tr)
	}
	p := env.payloads[0]
	tfSeed := mktorrent(t, ctx, p, trs[0].URL())
	tfGet := mktorrent(t, ctx, p, trs[1].URL())
	require.Equal(t, tfSeed.InfoHash, tfGet.InfoHash, "the announce URL is outside the info dictionary")

	began := time.Now()
	seedDir, getDir := copyPayload(t, p), t.TempDir()
	seeder := seedLibtorrent(t, ctx, tfSeed, seedDir, newHost(t))
	// The seeder announced to the first tracker; the second must list it.
	trs[1].waitSwarm(t, ctx, tfSeed.InfoHash, 1, 0, append(seeder.procs, trs[0].proc, trs[1].proc)...)
	t.Logf("seeder seen through the second tracker after %v", time.Since(began).Round(time.Millisecond))
	leecher := leechSwarm(t, ctx, tfGet, getDir, newHost(t))
	require.NoError(t, waitComplete(ctx, leecher, seeder, &node{procs: []*proc{trs[0].proc, trs[1].proc}}), "download")
	t.Logf("swarm leecher complete after %v", time.Since(began).Round(time.Millisecond))
	verifyDownload(t, tfGet, p.Dir, getDir, false)

	// swarm get announced completed, then stopped: one download, the seeder still there.
	var counts [2]scrapeCounts
	err := poll(ctx, 100*time.Millisecond, func() (bool, error) {
		for i, tr := range trs {
			c, err := tr.scrape(ctx, tfSeed.InfoHash)
			if err != nil {
				return false, err
			}
			counts[i] = c
		}
		return counts[0] == counts[1] && counts[0].Downloaded == 1, nil
	}, trs[0].proc, trs[1].proc)
	require.NoError(t, err, "scrapes: %+v", counts)
	assert.Equal(t, scrapeCounts{Complete: 1, Incomplete: 0, Downloaded: 1}, counts[0])
}

// TestRedisFaultProcess kills the Redis under a running `swarm tracker` process, then starts
// it again: meanwhile every announce gets the bencoded failure reason, /healthz answers 503
// and go_goroutines (from /metrics) does not grow; afterwards the same process serves again.
func TestRedisFaultProcess(t *testing.T) {
	start(t)
	needSwarm(t)
	srv := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	t.Cleanup(cancel)
	addr := fmt.Sprintf("127.0.0.4:%d", freePort(t, "127.0.0.4"))
	tr := startProc(t, ctx, "swarm-tracker", env.swarm, "tracker", "--listen", addr,
		"--store", srv.URL(), "--udp", "off", "--rate", "0")
	waitListening(t, ctx, addr, tr)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(path string) (int, string) {
		resp, err := hc.Get("http://" + addr + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(body)
	}
	announce := func(n int) string {
		_, body := get(fmt.Sprintf("/announce?info_hash=%s&peer_id=-SW0001-%012d&port=%d&left=0",
			strings.Repeat("%AB", 20), n, 1024+n))
		var r struct {
			Failure string `bencode:"failure reason"`
		}
		require.NoError(t, bencode.Unmarshal([]byte(body), &r), body)
		return r.Failure
	}
	goroutines := func() int {
		_, body := get("/metrics")
		for _, l := range strings.Split(body, "\n") {
			if v, ok := strings.CutPrefix(l, "go_goroutines "); ok {
				n, err := strconv.Atoi(strings.TrimSpace(v))
				require.NoError(t, err)
				return n
			}
		}
		t.Fatal("no go_goroutines in /metrics")
		return 0
	}
	burst := func(from int) []string {
		out := make([]string, 200)
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < len(out); i += 8 {
					out[i] = announce(from + i)
				}
			})
		}
		wg.Wait()
		return out
	}
	for _, f := range burst(0) {
		require.Empty(t, f)
	}
	code, _ := get("/healthz")
	require.Equal(t, http.StatusOK, code)
	before := goroutines()

	srv.Kill()
	began := time.Now()
	for _, f := range burst(1000) {
		assert.Equal(t, "tracker temporarily unavailable", f)
	}
	t.Logf("200 announces with Redis down answered in %v", time.Since(began).Round(time.Millisecond))
	code, body := get("/healthz")
	assert.Equal(t, http.StatusServiceUnavailable, code, body)
	settled := func() int {
		n := goroutines()
		for deadline := time.Now().Add(5 * time.Second); n > before+3 && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond)
			n = goroutines()
		}
		return n
	}
	assert.LessOrEqual(t, settled(), before+3, "goroutines grew while Redis was down (from %d)", before)

	srv.Restart()
	err := poll(ctx, 100*time.Millisecond, func() (bool, error) { return announce(1) == "", nil }, tr)
	require.NoError(t, err, "the tracker did not recover")
	t.Logf("serving again %v after Redis was killed (restarted in between)", time.Since(began).Round(time.Millisecond))
	code, _ = get("/healthz")
	assert.Equal(t, http.StatusOK, code)
	assert.LessOrEqual(t, settled(), before+3, "goroutines grew (from %d)", before)
	assert.False(t, tr.exited(), "the tracker process exited")
}
