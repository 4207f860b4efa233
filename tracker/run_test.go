package tracker_test

import (
	"context"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/tracker"
	"github.com/swarm-bt/swarm/tracker/trackertest"
)

func TestRunReapsSilentPeers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := tracker.New(tracker.Config{Interval: time.Minute, Rand: rand.New(rand.NewPCG(1, 1))})
		require.NoError(t, err)
		announce(t, s, ann{hash: trackertest.Hash(1), peer: 1, left: 1})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()

		time.Sleep(2*time.Minute + 1*time.Second)
		synctest.Wait()
		_, peers := storeLen(t, s)
		assert.Equal(t, 1, peers, "not yet two intervals and a reap tick")

		time.Sleep(30 * time.Second)
		synctest.Wait()
		swarms, peers := storeLen(t, s)
		assert.Equal(t, 0, swarms+peers)
		cancel()
		assert.NoError(t, <-done)
	})
}

func TestServeShutsDownOnCancel(t *testing.T) {
	s, err := tracker.New(tracker.Config{})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- s.Serve(ctx, ln) }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Equal(t, "ok\n", string(body))
	cancel()
	assert.NoError(t, <-done)
	_, err = net.Dial("tcp", ln.Addr().String())
	assert.Error(t, err, "the listener is closed")
}

func TestServeReturnsListenerErrors(t *testing.T) {
	s, err := tracker.New(tracker.Config{})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, ln.Close())
	err = s.Serve(t.Context(), ln)
	assert.ErrorContains(t, err, "tracker: serve")
}

func TestNewRejectsNegativeConfig(t *testing.T) {
	_, err := tracker.New(tracker.Config{Interval: -time.Second})
	assert.Error(t, err)
	reg := prometheus.NewRegistry()
	_, err = tracker.New(tracker.Config{Registry: reg})
	require.NoError(t, err)
	_, err = tracker.New(tracker.Config{Registry: reg})
	assert.ErrorContains(t, err, "register metrics", "two servers cannot share one registry")
}
