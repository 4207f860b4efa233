package main

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/tracker"
)

// eventLog is a tracker in front of ours that records each peer's announce events in order,
// as opentracker counts downloads: from event=completed only.
type eventLog struct {
	mu     sync.Mutex
	events map[string][]string // peer_id → events ("" for a regular announce)
}

func startEventLogTracker(t *testing.T) (string, *eventLog) {
	t.Helper()
	srv, err := tracker.New(tracker.Config{Interval: 2 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	l := &eventLog{events: map[string][]string{}}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/announce" {
			q := r.URL.Query()
			l.mu.Lock()
			l.events[q.Get("peer_id")] = append(l.events[q.Get("peer_id")], q.Get("event"))
			l.mu.Unlock()
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	return hs.URL + "/announce", l
}

// TestGetAnnouncesCompletedBeforeStopped: every `swarm get` that exits at 100% announces
// completed exactly once, and before stopped, though get stops the swarm the moment the
// download completes (regression: the tracker counted one completed after six gets).
func TestGetAnnouncesCompletedBeforeStopped(t *testing.T) {
	announce, events := startEventLogTracker(t)
	seedDir := t.TempDir()
	tpath, _ := writeTorrent(t, seedDir, "counted.bin", 200<<10, announce)
	mi, err := metainfo.Load(tpath)
	require.NoError(t, err)
	seeder, seederAddr, _ := killSeeder(t, mi, seedDir)
	const gets = 4
	for i := range gets {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		var out bytes.Buffer
		err := run(ctx, []string{"get", tpath, "-d", t.TempDir(), "--port", "0", "--bind", "127.0.0.1",
			"--peer", seederAddr, "-q"}, &out, &out)
		cancel()
		require.NoError(t, err, "get %d: %s", i, out.String())
	}
	events.mu.Lock()
	defer events.mu.Unlock()
	seederPeerID := seeder.PeerID()
	seederID := string(seederPeerID[:])
	leechers := 0
	for id, evs := range events.events {
		if id == seederID {
			continue
		}
		leechers++
		require.NotEmpty(t, evs)
		assert.Equal(t, "stopped", evs[len(evs)-1], "%q", evs)
		completed := 0
		for _, e := range evs {
			if e == "completed" {
				completed++
			}
		}
		if assert.Equal(t, 1, completed, "%q", evs) {
			assert.Equal(t, "completed", evs[len(evs)-2], "completed right before stopped: %q", evs)
		}
	}
	assert.Equal(t, gets, leechers)
}
