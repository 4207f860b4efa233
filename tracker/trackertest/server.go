package trackertest

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/tracker"
)

// Start runs a real tracker on a loopback port for the length of the test and returns it with
// its announce URL. A zero Interval becomes 2 s, short enough for swarms in tests to find new
// peers quickly; the server is closed at cleanup.
func Start(t testing.TB, cfg tracker.Config) (*tracker.Server, string) {
	t.Helper()
	if cfg.Interval == 0 {
		cfg.Interval = 2 * time.Second
	}
	srv, err := tracker.New(cfg)
	require.NoError(t, err)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return srv, hs.URL + "/announce"
}
