package peer_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer/peertest"
)

// bubbleNode starts a node on the in-memory network of a synctest bubble.
func bubbleNode(t *testing.T, net *peertest.Network, tor *peertest.Torrent, opt peertest.Options) *peertest.Node {
	t.Helper()
	opt.Network = net
	return startNode(t, tor, opt)
}

func TestSwarmInBubble(t *testing.T) {
	tor, err := peertest.NewTorrent("bubble.bin", 1<<20+17, 32<<10, 2)
	require.NoError(t, err)
	synctest.Test(t, func(t *testing.T) {
		net, tr := peertest.NewNetwork(), peertest.NewTracker()
		seeder := bubbleNode(t, net, tor, peertest.Options{Announcer: tr, Seed: true})
		leechers := []*peertest.Node{
			bubbleNode(t, net, tor, peertest.Options{Announcer: tr}),
			bubbleNode(t, net, tor, peertest.Options{Announcer: tr}),
		}
		for _, l := range leechers {
			awaitComplete(t, l, 10*time.Minute)
			assert.NoError(t, tor.Compare(l.Storage))
		}
		for _, l := range leechers {
			require.NoError(t, l.Stop())
		}
		require.NoError(t, seeder.Stop())
	})
}
