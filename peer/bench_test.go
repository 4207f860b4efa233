package peer_test

import (
	"fmt"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer/peertest"
	"github.com/swarm-bt/swarm/peer/storage"
	"github.com/swarm-bt/swarm/peer/wire"
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
		var ms0 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		start, cpu0 := time.Now(), cpuTime()
		leecher, err := peertest.Start(b.Context(), tor, peertest.Options{Announcer: tr, Storage: st})
		require.NoError(b, err)
		select {
		case <-leecher.Swarm.Completed():
		case <-time.After(2 * time.Minute):
			b.Fatalf("transfer incomplete: %+v", leecher.Swarm.Stats())
		}
		elapsed, cpu := time.Since(start), cpuTime()-cpu0
		var ms1 runtime.MemStats
		runtime.ReadMemStats(&ms1)
		// Heap allocations of both engines per block moved, start-up and the block pool's
		// warm-up included: what remains are a few per piece (its kept blocks, its senders,
		// its hash job), none per block.
		b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(size/wire.BlockSize), "allocs/block")
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

// BenchmarkSwarmFourLeechers: one seeder and four leechers that join at once, 64 MiB over
// loopback TCP. It reports the median leecher time and how many times the payload the seeder
// uploaded (good piece selection lets leechers trade among themselves).
func BenchmarkSwarmFourLeechers(b *testing.B) {
	const size = 64 << 20
	tor, err := peertest.NewTorrent("four.bin", size, 256<<10, 8)
	require.NoError(b, err)
	seedSt, err := tor.SeedStorage()
	require.NoError(b, err)
	for range b.N {
		tr := peertest.NewTracker()
		seeder, err := peertest.Start(b.Context(), tor, peertest.Options{Announcer: tr, Storage: seedSt, Have: fullHave(tor)})
		require.NoError(b, err)
		start := time.Now()
		var leechers []*peertest.Node
		for range 4 {
			l, err := peertest.Start(b.Context(), tor, peertest.Options{Announcer: tr, Configure: fastTimeouts})
			require.NoError(b, err)
			leechers = append(leechers, l)
		}
		var times []float64
		for _, l := range leechers {
			<-l.Swarm.Completed()
			times = append(times, time.Since(start).Seconds())
		}
		up := seeder.Swarm.Stats().Uploaded
		for _, l := range leechers {
			require.NoError(b, l.Stop())
		}
		require.NoError(b, seeder.Stop())
		slices.Sort(times)
		b.ReportMetric((times[1]+times[2])/2, "median-s")
		b.ReportMetric(float64(up)/size, "seed-upload-x")
	}
}

// BenchmarkTransferFiles is BenchmarkTransfer with both sides on files (storage.OpenFiles)
// in a temporary folder, as `swarm seed` and `swarm get` run.
func BenchmarkTransferFiles(b *testing.B) {
	const size = 256 << 20
	dir := b.TempDir()
	tor, err := peertest.NewTorrent("bench.bin", size, 256<<10, 7)
	require.NoError(b, err)
	seedSt, err := storage.OpenFiles(tor.Info, dir+"/seed")
	require.NoError(b, err)
	defer seedSt.Close()
	_, err = seedSt.WriteAt(tor.Payload, 0)
	require.NoError(b, err)
	b.SetBytes(size)
	b.ResetTimer()
	for i := range b.N {
		tr := peertest.NewTracker()
		seeder, err := peertest.Start(b.Context(), tor, peertest.Options{Announcer: tr, Storage: seedSt, Have: fullHave(tor)})
		require.NoError(b, err)
		st, err := storage.OpenFiles(tor.Info, fmt.Sprintf("%s/leech%d", dir, i))
		require.NoError(b, err)
		var ms0 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		start, cpu0 := time.Now(), cpuTime()
		leecher, err := peertest.Start(b.Context(), tor, peertest.Options{Announcer: tr, Storage: st})
		require.NoError(b, err)
		<-leecher.Swarm.Completed()
		elapsed, cpu := time.Since(start), cpuTime()-cpu0
		var ms1 runtime.MemStats
		runtime.ReadMemStats(&ms1)
		// Heap allocations of both engines per block moved, start-up and the block pool's
		// warm-up included: what remains are a few per piece (its kept blocks, its senders,
		// its hash job), none per block.
		b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(size/wire.BlockSize), "allocs/block")
		b.ReportMetric(float64(size)/1e6/elapsed.Seconds(), "MB/s")
		b.ReportMetric(cpu.Seconds()/(float64(size)/(1<<30)), "cpu-s/GiB")
		require.NoError(b, leecher.Stop())
		require.NoError(b, seeder.Stop())
		require.NoError(b, st.Close())
	}
}
