package picker

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/swarm-bt/swarm/peer/bitfield"
)

const (
	benchPieces = 40000
	benchPeers  = 50
	benchPiece  = 256 * kib // 16 blocks
)

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
			for i := 0; b.Loop(); i++ {
				id := PeerID(i % benchPeers)
				for _, blk := range p.Pick(id, 16) {
					p.Release(id, blk)
				}
			}
		})
		b.Run(fmt.Sprintf("download/density=%.2f", density), func(b *testing.B) {
			p, _ := benchPicker(b, density, 1)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if p.Done() {
					b.StopTimer()
					p, _ = benchPicker(b, density, 1)
					b.StartTimer()
				}
				id := PeerID(i % benchPeers)
				for _, blk := range p.Pick(id, 16) {
					if _, done, _ := p.Received(id, blk); done {
						p.PieceVerified(blk.Piece)
					}
				}
			}
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
			for i := 0; b.Loop(); i++ {
				if len(p.Pick(PeerID(i%benchPeers), 16)) == 0 || p.InEndgame() {
					b.StopTimer()
					p, _ = benchPicker(b, density, 1)
					b.StartTimer()
				}
			}
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
	for i := 0; b.Loop(); i++ {
		id := PeerID(i % benchPeers)
		if q := queues[id]; len(q) > 0 {
			if _, done, _ := p.Received(id, q[0]); done {
				p.PieceVerified(q[0].Piece)
			}
			queues[id] = append(q[1:], p.Pick(id, 1)...)
		}
		if p.Done() {
			b.StopTimer()
			p, _ = benchPicker(b, 0.5, 1)
			for id := range queues {
				queues[id] = p.Pick(PeerID(id), 16)
			}
			b.StartTimer()
		}
	}
}

// BenchmarkPeerBitfield measures a peer arriving with a half-full bitfield and leaving.
func BenchmarkPeerBitfield(b *testing.B) {
	p, bfs := benchPicker(b, 0.5, 0)
	b.ReportAllocs()
	for b.Loop() {
		p.PeerGone(7)
		p.PeerBitfield(7, bfs[7])
	}
}
