package picker

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer/bitfield"
)

// fakePeer is a simulated remote peer: what it has and what we asked it for, in order.
type fakePeer struct {
	has      bitfield.Bitfield
	queue    []Block
	pipeline int
}

// sim drives a picker like the engine would, with fake peers that answer in order.
type sim struct {
	t        *testing.T
	rng      *rand.Rand
	p        *Picker
	n        int
	peers    []*fakePeer
	got      map[Block]int // accepted receipts since the piece was last reset
	verified []int
	failed   []bool
	failRate float64

	steps, endgamePicks, failures int
}

func TestSimulatedDownload(t *testing.T) {
	tests := []struct {
		name     string
		n        int
		pieceLen int64
		total    int64
		peers    int
		density  float64
		failRate float64
	}{
		{"one seed", 12, 64 * kib, 12*64*kib - 5, 1, 1, 0},
		{"sparse peers", 40, 32 * kib, 40*32*kib - 16*kib - 1, 6, 0.3, 0},
		{"dense with bad pieces", 30, 48 * kib, 30 * 48 * kib, 8, 0.8, 0.2},
		{"many small pieces", 200, 16 * kib, 200*16*kib - 100, 10, 0.5, 0.05},
		{"single piece", 1, 256 * kib, 200 * kib, 5, 1, 0.3},
	}
	for _, tc := range tests {
		for seed := range uint64(5) {
			t.Run(fmt.Sprintf("%s/%d", tc.name, seed), func(t *testing.T) {
				s := newSim(t, seed, tc.n, tc.pieceLen, tc.total)
				s.failRate = tc.failRate
				s.addPeers(tc.peers, tc.density)
				s.run(200000)
				for i, c := range s.verified {
					assert.Equal(t, 1, c, "piece %d verified once", i)
				}
				assert.True(t, s.p.Done())
				assert.Equal(t, 0, s.p.Stats().Outstanding)
				t.Logf("%d steps, %d endgame picks, %d failed pieces", s.steps, s.endgamePicks, s.failures)
			})
		}
	}
}

func newSim(t *testing.T, seed uint64, n int, pieceLen, total int64) *sim {
	rng := rand.New(rand.NewPCG(seed, 99))
	cfg := Config{NumPieces: n, PieceLength: pieceLen, TotalLength: total, Rand: rand.New(rand.NewPCG(seed, 1))}
	return &sim{t: t, rng: rng, p: New(cfg, bitfield.New(n)), n: n, got: map[Block]int{},
		verified: make([]int, n), failed: make([]bool, n)}
}

// addPeers makes k peers with random bitfields of the given density, then gives every piece
// nobody has to a random peer, so the download can finish.
func (s *sim) addPeers(k int, density float64) {
	for range k {
		b := bitfield.New(s.n)
		for i := range s.n {
			if s.rng.Float64() < density {
				b.Set(i)
			}
		}
		s.peers = append(s.peers, &fakePeer{has: b, pipeline: 1 + s.rng.IntN(12)})
	}
	for i := range s.n {
		if !slices.ContainsFunc(s.peers, func(f *fakePeer) bool { return f.has.Has(i) }) {
			s.peers[s.rng.IntN(k)].has.Set(i)
		}
	}
	for id, f := range s.peers {
		s.p.PeerBitfield(PeerID(id), f.has.Clone())
	}
}

func (s *sim) run(maxSteps int) {
	for step := 0; !s.p.Done(); step++ {
		require.Less(s.t, step, maxSteps, "download stalled: %+v", s.p.Stats())
		id := PeerID(s.rng.IntN(len(s.peers)))
		switch r := s.rng.IntN(100); {
		case r < 55:
			s.deliver(id)
		case r < 58:
			s.timeout(id)
		case r < 59:
			s.reconnect(id)
		case r < 61:
			s.gain(id)
		default:
			s.refill(id)
		}
		checkInvariants(s.t, s.p)
		s.steps = step
	}
}

func (s *sim) deliver(id PeerID) {
	f := s.peers[id]
	if len(f.queue) == 0 {
		return
	}
	b := f.queue[0]
	f.queue = f.queue[1:]
	ok, done, cancel := s.p.Received(id, b)
	require.True(s.t, ok, "block %+v from %d unexpected", b, id)
	s.got[b]++
	for _, c := range cancel {
		q := s.peers[c].queue
		i := slices.Index(q, b)
		require.GreaterOrEqual(s.t, i, 0, "cancel to %d for a block it was not asked", c)
		s.peers[c].queue = slices.Delete(q, i, i+1)
	}
	if done {
		s.verify(b.Piece)
	}
}

// verify checks that every block of the piece arrived exactly once, then passes or fails it.
func (s *sim) verify(piece int) {
	var sum int64
	for j := range s.p.numBlocks(piece) {
		b := s.p.block(piece, j)
		require.Equal(s.t, 1, s.got[b], "block %+v", b)
		sum += int64(b.Length)
	}
	require.Equal(s.t, s.p.pieceLen(piece), sum)
	if !s.failed[piece] && s.rng.Float64() < s.failRate {
		s.failed[piece] = true
		s.failures++
		require.NotEmpty(s.t, s.p.Contributors(piece))
		s.p.PieceFailed(piece)
		for j := range s.p.numBlocks(piece) {
			delete(s.got, s.p.block(piece, j))
		}
		return
	}
	s.p.PieceVerified(piece)
	s.verified[piece]++
}

func (s *sim) timeout(id PeerID) {
	f := s.peers[id]
	if len(f.queue) == 0 {
		return
	}
	s.p.Release(id, f.queue[0])
	f.queue = f.queue[1:]
}

func (s *sim) reconnect(id PeerID) {
	s.p.PeerGone(id)
	s.peers[id].queue = nil
	s.p.PeerBitfield(id, s.peers[id].has.Clone())
}

func (s *sim) gain(id PeerID) {
	i := s.rng.IntN(s.n)
	s.peers[id].has.Set(i)
	s.p.PeerHave(id, i)
}

func (s *sim) refill(id PeerID) {
	f := s.peers[id]
	blocks := s.p.Pick(id, f.pipeline-len(f.queue))
	endgame := s.p.InEndgame()
	if endgame && len(blocks) > 0 {
		s.endgamePicks++
	}
	for _, b := range blocks {
		require.True(s.t, f.has.Has(b.Piece), "picked a piece the peer lacks")
		require.False(s.t, s.p.Have(b.Piece), "picked a verified piece")
		require.NotContains(s.t, f.queue, b, "same block twice to one peer")
		for other, g := range s.peers {
			if other != int(id) && !endgame {
				require.NotContains(s.t, g.queue, b, "block handed to two peers outside endgame")
			}
		}
	}
	f.queue = append(f.queue, blocks...)
}

// TestMillionsOfPieces checks the memory per piece of an idle picker and that a seed and a
// sparse peer are served without per-piece work on 2^21 pieces.
func TestMillionsOfPieces(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates about 30 MB")
	}
	const n = 1 << 21
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	p := New(Config{NumPieces: n, PieceLength: 16 * kib, TotalLength: n * 16 * kib, Rand: rand.New(rand.NewPCG(1, 1))}, bitfield.New(n))
	runtime.ReadMemStats(&after)
	perPiece := float64(after.TotalAlloc-before.TotalAlloc) / n
	assert.Less(t, perPiece, 13.0, "bytes per piece")
	t.Logf("%.2f bytes per piece", perPiece)

	p.PeerBitfield(1, full(n))
	p.PeerBitfield(2, bf(n, 5, n-1))
	assert.Len(t, p.Pick(1, 64), 64)
	assert.Len(t, p.Pick(2, 64), 2)
	assert.Equal(t, 66, p.Stats().InProgress)
	p.PeerGone(1)
	assert.Equal(t, 2, p.Stats().InProgress)
}
