package redisstore_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/tracker"
	"github.com/swarm-bt/swarm/tracker/redisstore"
	"github.com/swarm-bt/swarm/tracker/redisstore/redistest"
	"github.com/swarm-bt/swarm/tracker/trackertest"
)

type faultReply struct {
	Failure  string `bencode:"failure reason"`
	Complete int    `bencode:"complete"`
}

func announceTo(t *testing.T, h http.Handler, n int) faultReply {
	t.Helper()
	ih, id := trackertest.Hash(1), trackertest.ID(n)
	q := url.Values{"info_hash": {string(ih[:])}, "peer_id": {string(id[:])}, "port": {"6881"},
		"uploaded": {"0"}, "downloaded": {"0"}, "left": {"0"}}
	r := httptest.NewRequest(http.MethodGet, "/announce?"+q.Encode(), nil)
	r.RemoteAddr = fmt.Sprintf("10.0.%d.%d:5000", n>>8, n&255)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	require.Equal(t, http.StatusOK, w.Code)
	var rep faultReply
	require.NoError(t, bencode.Unmarshal(w.Body.Bytes(), &rep), w.Body.String())
	return rep
}

func healthz(h http.Handler) int {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	return w.Code
}

// TestRedisKilledAndRestarted kills Redis under a tracker that keeps serving: announces get
// a bencoded "tracker temporarily unavailable" quickly (no pile-up behind timeouts), /healthz
// says unhealthy, goroutines do not grow, and once Redis is back (empty) the same tracker
// serves again without a restart.
func TestRedisKilledAndRestarted(t *testing.T) {
	srv := redistest.Start(t)
	st, err := redisstore.New(redisstore.Config{URL: srv.URL(), PeerTTL: time.Hour, Timeout: 500 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	s, err := tracker.New(tracker.Config{Store: st, RatePerIP: -1, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)

	for n := range 20 {
		require.Empty(t, announceTo(t, s, n).Failure)
	}
	assert.Equal(t, 20, announceTo(t, s, 0).Complete)
	assert.Equal(t, http.StatusOK, healthz(s))
	runtime.GC()
	before := runtime.NumGoroutine()

	srv.Kill()
	start := time.Now()
	var wg sync.WaitGroup
	failures := make(chan string, 400)
	for w := range 8 { // concurrent clients during the outage
		wg.Go(func() {
			for i := range 50 {
				rep := announceTo(t, s, 100+w*50+i)
				failures <- rep.Failure
			}
		})
	}
	wg.Wait()
	close(failures)
	elapsed := time.Since(start)
	for f := range failures {
		assert.Equal(t, "tracker temporarily unavailable", f)
	}
	t.Logf("400 announces while Redis is down took %v", elapsed)
	assert.Less(t, elapsed, 5*time.Second, "requests piled up behind timeouts")
	assert.Equal(t, http.StatusServiceUnavailable, healthz(s))
	assertGoroutines(t, before, "during the outage")

	srv.Restart()
	deadline := time.Now().Add(10 * time.Second)
	for announceTo(t, s, 1).Failure != "" {
		require.True(t, time.Now().Before(deadline), "the tracker did not recover within 10 s of Redis restarting")
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("recovered %v after the restart", time.Since(deadline.Add(-10*time.Second)))
	assert.Equal(t, http.StatusOK, healthz(s))
	assert.Equal(t, 2, announceTo(t, s, 2).Complete, "a fresh Redis: peers announce again")
	assertGoroutines(t, before, "after recovery")
}

// assertGoroutines checks that the goroutine count comes back to about before within 3 s:
// go-redis dials in short-lived goroutines (at most one per pool slot), so a count taken
// at one instant may include dials still failing.
func assertGoroutines(t *testing.T, before int, when string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	n := runtime.NumGoroutine()
	for n > before+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	if !assert.LessOrEqual(t, n, before+2, "goroutines grew %s: %d -> %d", when, before, n) {
		buf := make([]byte, 1<<20)
		t.Logf("%s", buf[:runtime.Stack(buf, true)])
	}
}

// TestRedisFrozen freezes Redis (SIGSTOP): connections stay open but nothing answers. The
// first requests wait at most the store's timeout, later ones fail at once; after SIGCONT the
// tracker serves again.
func TestRedisFrozen(t *testing.T) {
	srv := redistest.Start(t)
	st, err := redisstore.New(redisstore.Config{URL: srv.URL(), PeerTTL: time.Hour, Timeout: 300 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	s, err := tracker.New(tracker.Config{Store: st, RatePerIP: -1, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	require.Empty(t, announceTo(t, s, 1).Failure)
	before := runtime.NumGoroutine()

	srv.Pause()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := range 20 {
				assert.Equal(t, "tracker temporarily unavailable", announceTo(t, s, 10+w*20+i).Failure)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	t.Logf("320 announces while Redis is frozen took %v", elapsed)
	assert.Less(t, elapsed, 3*time.Second, "requests piled up behind a frozen Redis")
	assert.Equal(t, http.StatusServiceUnavailable, healthz(s))
	assertGoroutines(t, before, "while Redis is frozen")

	srv.Resume()
	deadline := time.Now().Add(10 * time.Second)
	for announceTo(t, s, 2).Failure != "" {
		require.True(t, time.Now().Before(deadline), "no recovery within 10 s of SIGCONT")
		time.Sleep(50 * time.Millisecond)
	}
	assert.Equal(t, http.StatusOK, healthz(s))
}
