package peer_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer/peertest"
	"github.com/swarm-bt/swarm/peer/storage"
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
		// Touch the leecher's memory first: page faults of a fresh buffer are not the engine's.
		st := storage.NewMemory(size)
		_, err = st.WriteAt(make([]byte, size), 0)
		require.NoError(b, err)
		start, cpu0 := time.Now(), cpuTime()
		leecher, err := peertest.Start(b.Context(), tor, peertest.Options{Announcer: tr, Storage: st})
		require.NoError(b, err)
		select {
		case <-leecher.Swarm.Completed():
		case <-time.After(2 * time.Minute):
			b.Fatalf("transfer incomplete: %+v", leecher.Swarm.Stats())
		}
		elapsed, cpu := time.Since(start), cpuTime()-cpu0
		b.ReportMetric(float64(size)/1e6/elapsed.Seconds(), "MB/s")
		// CPU seconds per GiB moved (both engines): a figure that a loaded machine skews less.
		b.ReportMetric(cpu.Seconds()/(float64(size)/(1<<30)), "cpu-s/GiB")
		require.NoError(b, leecher.Stop())
		require.NoError(b, seeder.Stop())
	}
}

// cpuTime is the process's user plus system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
