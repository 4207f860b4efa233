package redisstore_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/tracker"
	"github.com/swarm-bt/swarm/tracker/redisstore"
	"github.com/swarm-bt/swarm/tracker/redisstore/redistest"
	"github.com/swarm-bt/swarm/tracker/trackertest"
)

func newStore(t *testing.T, url string) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(redisstore.Config{URL: url, PeerTTL: time.Hour, Rand: rand.New(rand.NewPCG(1, 2))})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestStoreConformance runs the Store contract (trackertest.TestStore) against a real
// redis-server and against a three-node Redis Cluster.
func TestStoreConformance(t *testing.T) {
	t.Run("server", func(t *testing.T) {
		srv := redistest.Start(t)
		trackertest.TestStore(t, func(t *testing.T) tracker.Store {
			_, err := srv.CLI("FLUSHALL")
			require.NoError(t, err)
			return newStore(t, srv.URL())
		})
	})
	t.Run("cluster", func(t *testing.T) {
		c := redistest.StartCluster(t)
		trackertest.TestStore(t, func(t *testing.T) tracker.Store {
			for _, n := range c.Nodes {
				_, err := n.CLI("FLUSHALL")
				require.NoError(t, err)
			}
			return newStore(t, c.URL())
		})
	})
}
