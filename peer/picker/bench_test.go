package picker

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/swarm-bt/swarm/peer/bitfield"
)

const (
	benchPieces = 40000
	benchPeers  = 50
	benchPiece  = 256 * kib // 16 blocks
)

// cpuMeter accumulates the benchmark thread's CPU time while running, and reports it per op.
type cpuMeter struct {
	b       *testing.B
	start   time.Duration
	total   time.Duration
	running bool
}

// meter pins the benchmark to its thread and starts measuring CPU time.
func meter(b *testing.B) *cpuMeter {
	runtime.LockOSThread()
	b.Cleanup(runtime.UnlockOSThread)
	m := &cpuMeter{b: b}
	m.resume()
	return m
}

func (m *cpuMeter) pause() {
	m.b.StopTimer()
	m.total += threadCPU() - m.start
}

func (m *cpuMeter) resume() {
	m.start = threadCPU()
	m.b.StartTimer()
}

// report records cpu-ns/op for ops iterations; call it after the loop.
func (m *cpuMeter) report(ops int) {
	m.pause()
	m.b.ReportMetric(float64(m.total.Nanoseconds())/float64(max(ops, 1)), "cpu-ns/op")
}

// benchPicker is a picker over 40,000 pieces of 256 KiB with 50 peers whose bitfields have
// the given density; the first seeds peers are seeds.
func benchPicker(b *testing.B, density float64, seeds int) (*Picker, []bitfield.Bitfield) {
	rng := rand.New(rand.NewPCG(1, 1))
	p := New(Config{NumPieces: benchPieces, PieceLength: benchPiece, TotalLength: benchPieces * benchPiece,
		RandomFirst: -1, Rand: rng}, bitfield.New(benchPieces))
	bfs := make([]bitfield.Bitfield, benchPeers)
	for id := range bfs {
		bfs[id] = bitfield.New(benchPieces)
		for i := range benchPieces {
			if id < seeds || rng.Float64() < density {
				bfs[id].Set(i)
			}
		}
		p.PeerBitfield(PeerID(id), bfs[id])
	}
	return p, bfs
}

// BenchmarkPick measures one Pick of a 16-block pipeline refill. "steady" releases the blocks
// again (the picker state stays the same: the pick starts a new piece each time); "download"
// receives and verifies them, rebuilding the picker when the torrent is complete.
func BenchmarkPick(b *testing.B) {
	for _, density := range []float64{0.5, 0.05} {
		b.Run(fmt.Sprintf("steady/density=%.2f", density), func(b *testing.B) {
			p, _ := benchPicker(b, density, 0)
			b.ReportAllocs()
			m, i := meter(b), 0
			for ; b.Loop(); i++ {
				id := PeerID(i % benchPeers)
				for _, blk := range p.Pick(id, 16) {
					p.Release(id, blk)
				}
			}
			m.report(i)
		})
		b.Run(fmt.Sprintf("download/density=%.2f", density), func(b *testing.B) {
			p, _ := benchPicker(b, density, 1)
			b.ReportAllocs()
			m, i := meter(b), 0
			for ; b.Loop(); i++ {
				if p.Done() {
					m.pause()
					p, _ = benchPicker(b, density, 1)
					m.resume()
				}
				id := PeerID(i % benchPeers)
				for _, blk := range p.Pick(id, 16) {
					if _, done, _ := p.Received(id, blk); done {
						p.PieceVerified(blk.Piece)
					}
				}
			}
			m.report(i)
		})
	}
}

// BenchmarkPickNew measures Pick alone when it starts a new 16-block piece each time (the
// rarity index path); pieces are never completed and the picker is rebuilt when exhausted.
func BenchmarkPickNew(b *testing.B) {
	for _, density := range []float64{0.5, 0.05} {
		b.Run(fmt.Sprintf("density=%.2f", density), func(b *testing.B) {
			p, _ := benchPicker(b, density, 1)
			b.ReportAllocs()
			m, i := meter(b), 0
			for ; b.Loop(); i++ {
				if len(p.Pick(PeerID(i%benchPeers), 16)) == 0 || p.InEndgame() {
					m.pause()
					p, _ = benchPicker(b, density, 1)
					m.resume()
				}
			}
			m.report(i)
		})
	}
}

// BenchmarkRefill is the engine's steady state: a peer delivers its oldest block, the picker
// records it (verifying finished pieces) and Pick(id, 1) tops its 16-deep pipeline up.
func BenchmarkRefill(b *testing.B) {
	p, _ := benchPicker(b, 0.5, 1)
	queues := make([][]Block, benchPeers)
	for id := range queues {
		queues[id] = p.Pick(PeerID(id), 16)
	}
	b.ReportAllocs()
	m, i := meter(b), 0
	for ; b.Loop(); i++ {
		id := PeerID(i % benchPeers)
		if q := queues[id]; len(q) > 0 {
			if _, done, _ := p.Received(id, q[0]); done {
				p.PieceVerified(q[0].Piece)
			}
			queues[id] = append(q[1:], p.Pick(id, 1)...)
		}
		if p.Done() {
			m.pause()
			p, _ = benchPicker(b, 0.5, 1)
			for id := range queues {
				queues[id] = p.Pick(PeerID(id), 16)
			}
			m.resume()
		}
	}
	m.report(i)
}

// BenchmarkPeerBitfield measures a peer arriving with a half-full bitfield and leaving.
func BenchmarkPeerBitfield(b *testing.B) {
	p, bfs := benchPicker(b, 0.5, 0)
	b.ReportAllocs()
	m, i := meter(b), 0
	for ; b.Loop(); i++ {
		p.PeerGone(7)
		p.PeerBitfield(7, bfs[7])
	}
	m.report(i)
}
