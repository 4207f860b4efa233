package picker

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer/bitfield"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"empty torrent", Config{}, true},
		{"bytes without pieces", Config{TotalLength: 1}, false},
		{"exact multiple", Config{NumPieces: 4, PieceLength: 32 * kib, TotalLength: 128 * kib}, true},
		{"short last piece", Config{NumPieces: 4, PieceLength: 32 * kib, TotalLength: 96*kib + 1}, true},
		{"one piece too many", Config{NumPieces: 5, PieceLength: 32 * kib, TotalLength: 128 * kib}, false},
		{"one piece too few", Config{NumPieces: 3, PieceLength: 32 * kib, TotalLength: 128 * kib}, false},
		{"zero piece length", Config{NumPieces: 1, TotalLength: 1}, false},
		{"piece over 4 GiB", Config{NumPieces: 1, PieceLength: 1 << 33, TotalLength: 1}, false},
		{"negative pieces", Config{NumPieces: -1}, false},
		{"endgame peers too many", Config{NumPieces: 1, PieceLength: 1, TotalLength: 1, EndgameMaxPeers: 5}, false},
		{"too many blocks per piece", Config{NumPieces: 1, PieceLength: 1 << 20, TotalLength: 1, BlockSize: 1}, false},
		{"huge length no overflow", Config{NumPieces: 2, PieceLength: 1 << 32, TotalLength: 1<<63 - 1}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, ErrGeometry)
			}
		})
	}
	assert.Panics(t, func() { New(Config{NumPieces: 2, PieceLength: 1, TotalLength: 5}, bitfield.Bitfield{}) })
}

func TestGeometry(t *testing.T) {
	tests := []struct {
		name       string
		n          int
		pieceLen   int64
		total      int64
		blockSize  uint32
		lastBlocks []uint32 // block lengths of the last piece
	}{
		{"one block", 1, 16 * kib, 16 * kib, 0, []uint32{16 * kib}},
		{"tiny torrent", 1, 16 * kib, 5, 0, []uint32{5}},
		{"short last piece", 3, 64 * kib, 128*kib + 20*kib, 0, []uint32{16 * kib, 4 * kib}},
		{"piece not multiple of block", 2, 40 * kib, 80 * kib, 0, []uint32{16 * kib, 16 * kib, 8 * kib}},
		{"odd last piece and block", 3, 40 * kib, 80*kib + 1, 0, []uint32{1}},
		{"small blocks", 2, 10, 15, 4, []uint32{4, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newTest(t, tc.n, tc.pieceLen, tc.total, func(c *Config) { c.BlockSize = tc.blockSize })
			p.PeerBitfield(1, full(tc.n))
			blocks := p.Pick(1, 1<<20)
			checkInvariants(t, p)
			byPiece := map[int][]uint32{}
			var sum int64
			for _, b := range blocks {
				assert.Equal(t, uint32(len(byPiece[b.Piece]))*max(tc.blockSize, DefaultBlockSize*boolInt(tc.blockSize == 0)), b.Begin, "blocks in order from 0")
				byPiece[b.Piece] = append(byPiece[b.Piece], b.Length)
				sum += int64(b.Length)
			}
			assert.Equal(t, tc.total, sum, "blocks cover the torrent once")
			assert.Equal(t, tc.lastBlocks, byPiece[tc.n-1])
			assert.Nil(t, p.Pick(1, 10), "everything requested; endgame has no other peer")
		})
	}
}

func boolInt(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

func TestZeroLength(t *testing.T) {
	p := New(Config{}, bitfield.Bitfield{})
	p.PeerBitfield(1, bitfield.New(0))
	p.PeerHave(1, 0)
	assert.True(t, p.Done())
	assert.False(t, p.Interesting(1))
	assert.Nil(t, p.Pick(1, 10))
	assert.False(t, p.InEndgame())
	checkInvariants(t, p)
}

func TestResumeHave(t *testing.T) {
	have := bf(4, 0, 2)
	p := New(Config{NumPieces: 4, PieceLength: 16 * kib, TotalLength: 64 * kib, Rand: rand.New(rand.NewPCG(1, 1))}, have)
	p.PeerBitfield(1, full(4))
	got := map[int]bool{}
	for _, b := range p.Pick(1, 10) {
		got[b.Piece] = true
	}
	assert.Equal(t, map[int]bool{1: true, 3: true}, got)
	assert.Equal(t, have.Bytes(), p.HavePieces().Bytes())
	checkInvariants(t, p)
}

func TestAvailability(t *testing.T) {
	p := newTest(t, 10, 16*kib, 160*kib)
	p.PeerHave(1, 3)
	p.PeerHave(1, 3)
	p.PeerHave(1, 99)
	p.PeerHave(1, -1)
	assert.Equal(t, 1, p.Availability(3), "a repeated have does not count twice")
	p.PeerBitfield(2, bf(10, 3, 4))
	assert.Equal(t, 2, p.Availability(3))
	p.PeerBitfield(2, bf(10, 4, 5))
	assert.Equal(t, 1, p.Availability(3), "a new bitfield replaces the old one")
	assert.Equal(t, 1, p.Availability(5))
	p.PeerHave(2, 3)
	assert.Equal(t, 2, p.Availability(3))
	checkInvariants(t, p)
	p.PeerGone(2)
	assert.Equal(t, []int{0, 0, 0, 1, 0, 0}, []int{p.Availability(0), p.Availability(1), p.Availability(2),
		p.Availability(3), p.Availability(4), p.Availability(5)})
	p.PeerGone(2)
	p.PeerGone(7)
	checkInvariants(t, p)
}

func TestNothingInteresting(t *testing.T) {
	p := New(Config{NumPieces: 3, PieceLength: 16 * kib, TotalLength: 48 * kib, Rand: rand.New(rand.NewPCG(1, 1))}, bf(3, 1))
	tests := []struct {
		name string
		has  bitfield.Bitfield
	}{
		{"empty bitfield", bitfield.New(3)},
		{"only pieces we have", bf(3, 1)},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := PeerID(i + 1)
			p.PeerBitfield(id, tc.has)
			assert.False(t, p.Interesting(id))
			assert.Nil(t, p.Pick(id, 10))
			p.PeerHave(id, 2)
			assert.True(t, p.Interesting(id))
			assert.Equal(t, []Block{{Piece: 2, Begin: 0, Length: 16 * kib}}, p.Pick(id, 10))
			p.Release(id, Block{Piece: 2, Begin: 0, Length: 16 * kib})
		})
	}
	assert.Nil(t, p.Pick(42, 10), "unknown peer")
	assert.Nil(t, p.Pick(1, 0), "max 0")
	assert.False(t, p.Interesting(42))
	checkInvariants(t, p)
}

func TestRarestFirst(t *testing.T) {
	// availability: pieces 0-2 three peers, 3-4 two, 5-9 one (only peer 1)
	p := newTest(t, 10, 16*kib, 160*kib, func(c *Config) { c.RandomFirst = -1 })
	p.PeerBitfield(1, full(10))
	p.PeerBitfield(2, bf(10, 0, 1, 2, 3, 4))
	for _, i := range []int{0, 1, 2} {
		p.PeerHave(3, i)
	}
	var order []int
	for range 10 {
		got := p.Pick(1, 1)
		require.Len(t, got, 1)
		order = append(order, got[0].Piece)
		checkInvariants(t, p)
	}
	assert.ElementsMatch(t, []int{5, 6, 7, 8, 9}, order[:5])
	assert.ElementsMatch(t, []int{3, 4}, order[5:7])
	assert.ElementsMatch(t, []int{0, 1, 2}, order[7:])
}

// TestRarestAfterChanges checks that rarity follows haves and departures.
func TestRarestAfterChanges(t *testing.T) {
	p := newTest(t, 4, 16*kib, 64*kib, func(c *Config) { c.RandomFirst = -1 })
	p.PeerBitfield(1, full(4))
	p.PeerBitfield(2, full(4))
	p.PeerBitfield(3, bf(4, 0, 1, 3))
	p.PeerGone(2) // now 2 is the only piece with one peer
	assert.Equal(t, 2, p.Pick(1, 1)[0].Piece)
	p.PeerHave(4, 0)
	p.PeerHave(4, 3) // 1 is now rarest (2 peers)
	assert.Equal(t, 1, p.Pick(1, 1)[0].Piece)
	checkInvariants(t, p)
}

// rangeBF is a bitfield of n pieces with pieces [lo, hi) set.
func rangeBF(n, lo, hi int) bitfield.Bitfield {
	b := bitfield.New(n)
	for i := lo; i < hi; i++ {
		b.Set(i)
	}
	return b
}

// assertUniform checks that counts, over trials draws, cover exactly want and pass a
// chi-square test at about five standard deviations.
func assertUniform(t *testing.T, want []int, counts map[int]int, trials int) {
	t.Helper()
	require.Len(t, counts, len(want), "picks %v", counts)
	exp := float64(trials) / float64(len(want))
	chi2 := 0.0
	for _, i := range want {
		d := float64(counts[i]) - exp
		chi2 += d * d / exp
	}
	df := float64(len(want) - 1)
	assert.Less(t, chi2, df+5*math.Sqrt(2*df), "chi-square of %v", counts)
}

// TestRandomTies checks the first pick is uniform among the rarest pieces, both through the
// rarity index (64 pieces, peers with many candidates) and through the bitfield walk (8 pieces).
func TestRandomTies(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		setup func(p *Picker)
		want  []int
	}{
		{"walk: one seed", 8, func(p *Picker) { p.PeerBitfield(1, full(8)) }, []int{0, 1, 2, 3, 4, 5, 6, 7}},
		{"walk: haves in order", 8, func(p *Picker) {
			for i := range 7 {
				p.PeerHave(1, i)
			}
		}, []int{0, 1, 2, 3, 4, 5, 6}},
		{"walk: rare subset", 8, func(p *Picker) {
			p.PeerBitfield(1, full(8))
			p.PeerBitfield(2, bf(8, 0, 1, 2, 3, 7))
			p.PeerGone(3)
		}, []int{4, 5, 6}},
		{"index: one seed", 64, func(p *Picker) { p.PeerBitfield(1, full(64)) }, rangeInts(0, 64)},
		{"index: seed, rare subset", 64, func(p *Picker) {
			p.PeerBitfield(1, full(64))
			p.PeerBitfield(2, rangeBF(64, 4, 64))
		}, []int{0, 1, 2, 3}},
		{"index: haves in order", 64, func(p *Picker) {
			for i := range 63 {
				p.PeerHave(1, i)
			}
			for i := 4; i < 64; i++ {
				p.PeerHave(2, i)
			}
		}, []int{0, 1, 2, 3}},
		{"index: departure", 64, func(p *Picker) {
			p.PeerBitfield(1, rangeBF(64, 0, 63))
			p.PeerBitfield(2, rangeBF(64, 0, 63))
			p.PeerBitfield(3, rangeBF(64, 4, 63))
			p.PeerBitfield(4, rangeBF(64, 0, 4))
			p.PeerGone(4)
		}, []int{0, 1, 2, 3}},
	}
	const trials = 4000
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 7))
			counts := map[int]int{}
			for range trials {
				p := New(Config{NumPieces: tc.n, PieceLength: 16 * kib, TotalLength: int64(tc.n) * 16 * kib,
					RandomFirst: -1, Rand: rng}, bitfield.New(tc.n))
				tc.setup(p)
				require.Equal(t, tc.n <= 8, p.sparse(p.peers[1]), "path under test")
				counts[p.Pick(1, 1)[0].Piece]++
			}
			assertUniform(t, tc.want, counts, trials)
		})
	}
}

func rangeInts(lo, hi int) []int {
	var out []int
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	return out
}

func TestRandomFirst(t *testing.T) {
	// piece 0 is the rarest; in the random phase the first pick is spread over all pieces
	for _, n := range []int{4, 64} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			const trials = 4000
			rng := rand.New(rand.NewPCG(3, 3))
			counts := map[int]int{}
			for range trials {
				p := New(Config{NumPieces: n, PieceLength: 16 * kib, TotalLength: int64(n) * 16 * kib, RandomFirst: 2, Rand: rng}, bitfield.New(n))
				p.PeerBitfield(1, full(n))
				p.PeerBitfield(2, rangeBF(n, 1, n))
				counts[p.Pick(1, 1)[0].Piece]++
			}
			assertUniform(t, rangeInts(0, n), counts, trials)
		})
	}
	for _, n := range []int{6, 64} {
		p := newTest(t, n, 16*kib, int64(n)*16*kib, func(c *Config) { c.RandomFirst = 2 })
		p.PeerBitfield(1, full(n))
		p.PeerBitfield(2, rangeBF(n, 0, n-2))
		p.PeerBitfield(3, rangeBF(n, 0, n-1)) // piece n-1 rarest
		p.PieceVerified(0)
		p.PieceVerified(1)
		assert.Equal(t, n-1, p.Pick(1, 1)[0].Piece, "rarest first after RandomFirst verified pieces")
		checkInvariants(t, p)
	}
}

func TestPartialFirst(t *testing.T) {
	const n = 4 // pieces of 4 blocks
	blk := func(piece, j int) Block { return Block{Piece: piece, Begin: uint32(j * 16 * kib), Length: 16 * kib} }
	setup := func(t *testing.T) *Picker {
		p := newTest(t, n, 64*kib, n*64*kib, func(c *Config) { c.RandomFirst = -1 })
		p.PeerBitfield(1, full(n))
		p.PeerBitfield(2, full(n))
		p.PeerBitfield(3, bf(n, 0, 1, 2)) // piece 3 rarest
		return p
	}
	t.Run("own piece continued", func(t *testing.T) {
		p := setup(t)
		assert.Equal(t, []Block{blk(3, 0), blk(3, 1)}, p.Pick(1, 2))
		assert.Equal(t, []Block{blk(3, 2), blk(3, 3)}, p.Pick(1, 2))
		checkInvariants(t, p)
	})
	t.Run("own piece continued after its blocks arrived", func(t *testing.T) {
		p := setup(t)
		require.Len(t, p.Pick(1, 2), 2)
		for j := range 2 {
			ok, _, _ := p.Received(1, blk(3, j))
			require.True(t, ok)
		}
		assert.Equal(t, []Block{blk(3, 2)}, p.Pick(1, 1))
	})
	t.Run("other peer prefers a new piece", func(t *testing.T) {
		p := setup(t)
		require.Len(t, p.Pick(1, 2), 2)
		got := p.Pick(2, 4)
		require.Len(t, got, 4)
		assert.NotEqual(t, 3, got[0].Piece)
		assert.Equal(t, got[0].Piece, got[3].Piece, "a whole new piece")
	})
	t.Run("shared when nothing else", func(t *testing.T) {
		p := setup(t)
		require.Equal(t, []Block{blk(3, 0), blk(3, 1)}, p.Pick(1, 2))
		p.PeerBitfield(4, bf(n, 3))
		assert.Equal(t, []Block{blk(3, 2), blk(3, 3)}, p.Pick(4, 10))
		checkInvariants(t, p)
	})
	t.Run("abandoned partial before rarer new piece", func(t *testing.T) {
		p := setup(t)
		for range 2 { // pieces 3 then one of 0..2 in progress for peer 1
			require.Len(t, p.Pick(1, 4), 4)
		}
		p.Received(1, blk(3, 0))
		p.PeerGone(1) // piece 3 half-empty, nothing outstanding
		p.PeerHave(3, 3)
		p.PeerHave(4, 3) // piece 3 now more common (3 peers) than pieces 0-2 (2 peers)
		got := p.Pick(2, 3)
		assert.Equal(t, []Block{blk(3, 1), blk(3, 2), blk(3, 3)}, got)
		checkInvariants(t, p)
	})
	t.Run("abandoned partial before new for another peer", func(t *testing.T) {
		p := setup(t)
		require.Len(t, p.Pick(1, 2), 2)
		p.Received(1, blk(3, 0))
		p.Release(1, blk(3, 1)) // timed out: nothing outstanding in piece 3
		assert.Equal(t, []Block{blk(3, 1), blk(3, 2)}, p.Pick(2, 2))
		checkInvariants(t, p)
	})
}

func TestSeeds(t *testing.T) {
	p := newTest(t, 4, 16*kib, 64*kib, func(c *Config) { c.RandomFirst = -1 })
	p.PeerBitfield(1, full(4))
	p.PeerBitfield(2, bf(4, 0, 1, 2))
	assert.Equal(t, []int{2, 2, 2, 1}, []int{p.Availability(0), p.Availability(1), p.Availability(2), p.Availability(3)})
	assert.Equal(t, 1, p.seeds)
	assert.Nil(t, p.Pick(3, 1), "unknown peer")
	assert.Equal(t, 3, p.Pick(1, 1)[0].Piece, "the piece only the seed has is rarest")
	p.PeerHave(2, 3) // peer 2 completes: becomes a seed
	assert.Equal(t, 2, p.seeds)
	assert.Equal(t, 2, p.Availability(3))
	checkInvariants(t, p)
	p.PeerBitfield(2, bf(4, 0)) // replaced by a partial bitfield
	assert.Equal(t, 1, p.seeds)
	assert.Equal(t, 2, p.Availability(0))
	checkInvariants(t, p)
	p.PeerGone(1) // the last seed leaves: pieces 1-3 are nowhere
	assert.Equal(t, 0, p.Availability(1))
	assert.Equal(t, 1, p.Stats().Unrequested, "only piece 0 (peer 2 has it) counts; piece 3 was released")
	assert.Equal(t, 0, p.Stats().InProgress)
	checkInvariants(t, p)
}

func TestSeedsAndEndgame(t *testing.T) {
	p := newTest(t, 2, 16*kib, 32*kib)
	p.PeerBitfield(1, full(2))
	p.PeerBitfield(2, bf(2, 0))
	require.Len(t, p.Pick(2, 5), 1)
	assert.False(t, p.InEndgame(), "the seed still offers piece 1")
	require.Len(t, p.Pick(1, 1), 1)
	assert.True(t, p.InEndgame())
	p.PeerGone(1)
	assert.True(t, p.InEndgame(), "piece 1 is released and nobody has it")
	assert.Equal(t, 0, p.Stats().Unrequested)
	checkInvariants(t, p)
}

// TestLongScans covers the bounded index scan: a peer whose rarest candidates sit behind
// many rare pieces it lacks still gets them (through the bitfield walk), and the random-first
// draw falls back to a scan when its tries miss.
func TestLongScans(t *testing.T) {
	const n = 1000
	t.Run("rarest behind a long bucket", func(t *testing.T) {
		for seed := range uint64(10) {
			p := newTest(t, n, 16*kib, n*16*kib, func(c *Config) { c.RandomFirst = -1; c.Rand = rand.New(rand.NewPCG(seed, 0)) })
			p.PeerBitfield(1, rangeBF(n, 500, n))
			p.PeerBitfield(2, rangeBF(n, 0, n-1)) // piece 999 only at peer 1, 0-499 only at peer 2
			require.False(t, p.sparse(p.peers[1]))
			assert.Equal(t, n-1, p.Pick(1, 1)[0].Piece)
			next := p.Pick(1, 2)
			assert.GreaterOrEqual(t, next[0].Piece, 500)
			assert.GreaterOrEqual(t, next[1].Piece, 500)
			checkInvariants(t, p)
		}
	})
	t.Run("random first with few candidates", func(t *testing.T) {
		for seed := range uint64(20) {
			p := newTest(t, n, 16*kib, n*16*kib, func(c *Config) { c.Rand = rand.New(rand.NewPCG(seed, 0)) })
			p.PeerBitfield(1, rangeBF(n, 0, 50))
			p.PeerBitfield(2, rangeBF(n, 50, n))
			require.False(t, p.sparse(p.peers[1]))
			assert.Less(t, p.Pick(1, 1)[0].Piece, 50)
		}
	})
}

func TestBitfieldOfWrongLength(t *testing.T) {
	p := newTest(t, 10, 16*kib, 160*kib)
	p.PeerBitfield(1, full(3))
	assert.Equal(t, 1, p.Availability(2))
	assert.Equal(t, 0, p.Availability(3))
	p.PeerBitfield(2, full(16))
	assert.Equal(t, 1, p.Availability(9))
	assert.Equal(t, 1, p.seeds, "bits beyond the torrent are ignored")
	checkInvariants(t, p)
}

// TestSpareSeeds: while sparing, a seed is asked only for new pieces no other peer has; the
// rest stay for the peers that have them, and a piece in progress is still finished from it.
func TestSpareSeeds(t *testing.T) {
	pieces := func(bs []Block) map[int]bool {
		m := map[int]bool{}
		for _, b := range bs {
			m[b.Piece] = true
		}
		return m
	}
	p := newTest(t, 8, 32*kib, 8*32*kib, func(c *Config) { c.RandomFirst = -1 })
	p.PeerBitfield(1, full(8))
	p.PeerBitfield(2, bf(8, 0, 1, 2, 3, 4, 5))
	p.SpareSeeds(true)
	assert.True(t, p.IsSeed(1))
	assert.False(t, p.IsSeed(2))
	assert.Equal(t, map[int]bool{6: true, 7: true}, pieces(p.Pick(1, 16)), "only the pieces peer 2 lacks")
	checkInvariants(t, p)

	got := p.Pick(2, 1) // peer 2 starts a piece: its second block may come from the seed
	require.Len(t, got, 1)
	assert.Equal(t, map[int]bool{got[0].Piece: true}, pieces(p.Pick(1, 16)), "the piece in progress, nothing new")

	p.SpareSeeds(false)
	assert.Len(t, pieces(p.Pick(1, 16)), 6, "not sparing: the piece in progress and the five others peer 2 has")
	checkInvariants(t, p)
}

// TestSuggest: new pieces are started from a peer's suggestions first, in their order,
// skipping those it lacks, we have or that are under way; a seed that suggests is asked,
// while seeds are spared, only for what it suggests; suggestions are bounded.
func TestSuggest(t *testing.T) {
	p := newTest(t, 8, 32*kib, 8*32*kib, func(c *Config) { c.RandomFirst = -1 })
	p.PeerBitfield(1, full(8))
	p.PeerBitfield(2, bf(8, 0, 1, 2, 3))
	p.Suggest(2, 6) // peer 2 lacks it
	p.Suggest(2, 3)
	p.Suggest(2, 3) // repeated
	p.Suggest(2, 1)
	p.Suggest(2, 99) // out of range
	got := p.Pick(2, 4)
	require.Len(t, got, 4)
	assert.Equal(t, []int{3, 3, 1, 1}, []int{got[0].Piece, got[1].Piece, got[2].Piece, got[3].Piece},
		"the suggestions peer 2 can serve, in order, whole")
	checkInvariants(t, p)

	// A suggesting seed, spared while peer 2 trades: only its suggestions that nobody else
	// has, none of the rest.
	p.Suggest(1, 0) // peer 2 has it: it comes from peer 2
	p.Suggest(1, 7)
	p.SpareSeeds(true)
	got = p.Pick(1, 16)
	require.Len(t, got, 2)
	assert.Equal(t, 7, got[0].Piece)
	assert.Equal(t, 7, got[1].Piece)
	assert.Empty(t, p.Pick(1, 16), "nothing beyond the suggestions of a seed that hands out pieces")
	p.SpareSeeds(false)
	assert.NotEmpty(t, p.Pick(1, 16), "not sparing: anything")
	checkInvariants(t, p)

	q := newTest(t, 1000, 32*kib, 1000*32*kib)
	q.PeerBitfield(1, full(1000))
	for i := range 1000 {
		q.Suggest(1, i)
	}
	got = q.Pick(1, 1000)
	first := map[int]bool{}
	for _, b := range got[:maxSuggested*2] {
		first[b.Piece] = true
	}
	for i := range maxSuggested {
		assert.True(t, first[i], "suggestion %d of the first %d is started first", i, maxSuggested)
	}
	assert.Len(t, first, maxSuggested, "suggestions beyond the cap are ignored")
	checkInvariants(t, q)
}
