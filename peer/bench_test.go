package peer_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer/peertest"
)

// BenchmarkTransfer moves a 256 MiB torrent (256 KiB pieces) from one in-process seeder to one
// leecher over loopback TCP, with in-memory storage; it reports MB/s of payload.
func BenchmarkTransfer(b *testing.B) {
	const size = 256 << 20
	tor, err := peertest.NewTorrent("bench.bin", size, 256<<10, 7)
	require.NoError(b, err)
	seedSt, err := tor.SeedStorage()
	require.NoError(b, err)
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		tr := peertest.NewTracker()
		seeder, err := peertest.Start(b.Context(), tor, peertest.Options{Announcer: tr, Storage: seedSt, Have: fullHave(tor)})
		require.NoError(b, err)
		start := time.Now()
		leecher, err := peertest.Start(b.Context(), tor, peertest.Options{Announcer: tr})
		require.NoError(b, err)
		select {
		case <-leecher.Swarm.Completed():
		case <-time.After(2 * time.Minute):
			b.Fatalf("transfer incomplete: %+v", leecher.Swarm.Stats())
		}
		elapsed := time.Since(start)
		b.ReportMetric(float64(size)/1e6/elapsed.Seconds(), "MB/s")
		require.NoError(b, leecher.Stop())
		require.NoError(b, seeder.Stop())
	}
}
