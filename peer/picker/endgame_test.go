package picker

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func blk(piece, j int) Block {
	return Block{Piece: piece, Begin: uint32(j * 16 * kib), Length: 16 * kib}
}

// onePiece is a picker over one piece of two blocks, with peers 1-4 seeds.
func onePiece(t *testing.T) *Picker {
	p := newTest(t, 1, 32*kib, 32*kib)
	for id := range PeerID(4) {
		p.PeerBitfield(id+1, full(1))
	}
	return p
}

func TestEndgame(t *testing.T) {
	p := onePiece(t)
	assert.False(t, p.InEndgame())
	assert.Equal(t, []Block{blk(0, 0), blk(0, 1)}, p.Pick(1, 10))
	assert.True(t, p.InEndgame(), "every block requested")
	assert.Equal(t, []Block{blk(0, 0), blk(0, 1)}, p.Pick(2, 10), "duplicates")
	assert.Equal(t, []Block{blk(0, 0)}, p.Pick(3, 1))
	assert.Equal(t, []Block{blk(0, 1)}, p.Pick(3, 1))
	assert.Nil(t, p.Pick(4, 10), "at most 3 peers per block")
	assert.Nil(t, p.Pick(1, 10), "never the same block twice to one peer")
	assert.Equal(t, 2, p.Requested(3))
	checkInvariants(t, p)

	ok, done, cancel := p.Received(2, blk(0, 0))
	assert.True(t, ok)
	assert.False(t, done)
	assert.ElementsMatch(t, []PeerID{1, 3}, cancel)
	assert.Equal(t, 1, p.Requested(1), "cancelled requests are forgotten")

	ok, _, cancel = p.Received(1, blk(0, 0))
	assert.False(t, ok, "late duplicate after cancel")
	assert.Nil(t, cancel)

	assert.Nil(t, p.Pick(4, 10), "block 1 still has three requesters, block 0 is received")
	p.Release(3, blk(0, 1))
	assert.Equal(t, []Block{blk(0, 1)}, p.Pick(4, 10), "a slot freed by a timeout")
	checkInvariants(t, p)
}

func TestEndgameFewestFirst(t *testing.T) {
	p := onePiece(t)
	require.Len(t, p.Pick(1, 2), 2)
	require.Len(t, p.Pick(2, 1), 1) // block 0 now has two requesters
	assert.Equal(t, []Block{blk(0, 1), blk(0, 0)}, p.Pick(3, 2), "block with fewer requesters first")
}

func TestEndgameCancelAndDone(t *testing.T) {
	p := onePiece(t)
	require.Len(t, p.Pick(1, 2), 2)
	require.Len(t, p.Pick(2, 2), 2)
	_, done, cancel := p.Received(1, blk(0, 0))
	assert.False(t, done)
	assert.Equal(t, []PeerID{2}, cancel)
	ok, done, cancel := p.Received(2, blk(0, 1))
	assert.True(t, ok)
	assert.True(t, done)
	assert.Equal(t, []PeerID{1}, cancel)
	assert.Equal(t, []PeerID{1, 2}, p.Contributors(0))
	assert.Equal(t, 0, p.Requested(1))
	assert.False(t, p.InEndgame(), "nothing outstanding while the piece is hashed")
	p.PieceVerified(0)
	assert.True(t, p.Done())
	assert.Nil(t, p.Contributors(0))
	assert.False(t, p.Interesting(1))
	checkInvariants(t, p)
}

func TestNoEndgameWhileBlocksUnrequested(t *testing.T) {
	p := newTest(t, 2, 16*kib, 32*kib)
	p.PeerBitfield(1, full(2))
	p.PeerBitfield(2, bf(2, 0))
	require.Len(t, p.Pick(1, 1), 1)
	assert.False(t, p.InEndgame())
	got := p.Pick(2, 5)
	if len(got) == 1 { // peer 1 took piece 1: peer 2 gets piece 0, then endgame is on
		assert.Equal(t, blk(0, 0), got[0])
		assert.True(t, p.InEndgame())
	} else {
		assert.Nil(t, got, "peer 1 took piece 0; peer 2 has nothing else and no endgame yet")
	}
}

func TestEndgameIgnoresPiecesNobodyHas(t *testing.T) {
	p := newTest(t, 2, 16*kib, 32*kib)
	p.PeerBitfield(1, bf(2, 0))
	p.PeerBitfield(2, bf(2, 0))
	require.Equal(t, []Block{blk(0, 0)}, p.Pick(1, 5))
	assert.True(t, p.InEndgame(), "piece 1 is missing from the swarm")
	assert.Equal(t, []Block{blk(0, 0)}, p.Pick(2, 5))
	p.PeerHave(2, 1)
	assert.False(t, p.InEndgame())
	checkInvariants(t, p)
}

func TestReceivedUnexpected(t *testing.T) {
	p := newTest(t, 2, 32*kib, 48*kib, func(c *Config) { c.RandomFirst = -1 })
	p.PeerBitfield(1, bf(2, 0))
	p.PeerBitfield(2, full(2))
	require.Equal(t, []Block{blk(0, 0)}, p.Pick(1, 1))
	tests := []struct {
		name string
		id   PeerID
		b    Block
	}{
		{"not requested from this peer", 2, blk(0, 0)},
		{"not requested at all", 1, blk(0, 1)},
		{"piece not in progress", 2, blk(1, 0)},
		{"piece out of range", 1, Block{Piece: 5, Length: 16 * kib}},
		{"negative piece", 1, Block{Piece: -1, Length: 16 * kib}},
		{"misaligned", 1, Block{Piece: 0, Begin: 1, Length: 16 * kib}},
		{"wrong length", 1, Block{Piece: 0, Begin: 0, Length: 100}},
		{"past the piece", 1, Block{Piece: 0, Begin: 32 * kib, Length: 16 * kib}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, done, cancel := p.Received(tc.id, tc.b)
			assert.False(t, ok)
			assert.False(t, done)
			assert.Nil(t, cancel)
			p.Release(tc.id, tc.b) // no effect either
			checkInvariants(t, p)
		})
	}
	ok, _, _ := p.Received(1, blk(0, 0))
	assert.True(t, ok)
	ok, _, _ = p.Received(1, blk(0, 0))
	assert.False(t, ok, "duplicate")
}

func TestRelease(t *testing.T) {
	p := newTest(t, 1, 48*kib, 48*kib)
	p.PeerBitfield(1, full(1))
	p.PeerBitfield(2, full(1))
	require.Len(t, p.Pick(1, 2), 2)
	p.Release(2, blk(0, 0)) // not its request
	p.Release(1, blk(0, 1)) // timeout
	assert.Equal(t, 1, p.Requested(1))
	assert.Equal(t, []Block{blk(0, 1), blk(0, 2)}, p.Pick(2, 2), "released block back in the pool")
	checkInvariants(t, p)
	p.Release(1, blk(0, 0))
	p.Release(1, blk(0, 0))
	assert.Equal(t, []Block{blk(0, 0)}, p.Pick(2, 5))
	checkInvariants(t, p)
}

func TestReleasePeer(t *testing.T) {
	p := newTest(t, 2, 32*kib, 64*kib)
	p.PeerBitfield(1, full(2))
	got := p.Pick(1, 3)
	require.Len(t, got, 3)
	assert.ElementsMatch(t, got, p.ReleasePeer(1), "choked: all its requests back")
	assert.Equal(t, 0, p.Requested(1))
	assert.Equal(t, 0, p.Stats().InProgress, "idle pieces leave the in-progress set")
	assert.Nil(t, p.ReleasePeer(1))
	assert.True(t, p.Interesting(1), "availability kept")
	checkInvariants(t, p)
}

func TestPeerGoneReleases(t *testing.T) {
	p := newTest(t, 1, 64*kib, 64*kib)
	p.PeerBitfield(1, full(1))
	p.PeerBitfield(2, full(1))
	require.Len(t, p.Pick(1, 3), 3)
	ok, _, _ := p.Received(1, blk(0, 0))
	require.True(t, ok)
	p.PeerGone(1)
	checkInvariants(t, p)
	assert.Equal(t, 1, p.Availability(0))
	assert.Equal(t, []Block{blk(0, 1), blk(0, 2), blk(0, 3)}, p.Pick(2, 10))
	ok, _, _ = p.Received(1, blk(0, 1))
	assert.False(t, ok, "a gone peer's late block")
	assert.Equal(t, []PeerID{1}, p.Contributors(0), "past contributions stay")
}

func TestBadPiece(t *testing.T) {
	p := newTest(t, 2, 64*kib, 128*kib, func(c *Config) { c.RandomFirst = -1 })
	p.PeerBitfield(1, full(2))
	p.PeerBitfield(2, bf(2, 0))
	p.PeerBitfield(3, bf(2, 1))
	p.PeerBitfield(4, bf(2, 1)) // piece 0 is rarest
	require.Equal(t, []Block{blk(0, 0), blk(0, 1)}, p.Pick(1, 2))
	require.Equal(t, []Block{blk(0, 2), blk(0, 3)}, p.Pick(2, 2), "shared: peer 2 has nothing else")
	for j, id := range []PeerID{1, 1, 2, 2} {
		ok, done, _ := p.Received(id, blk(0, j))
		require.True(t, ok)
		assert.Equal(t, j == 3, done)
	}
	assert.Equal(t, []PeerID{1, 2}, p.Contributors(0))
	p.PieceFailed(0)
	assert.Nil(t, p.Contributors(0))
	assert.False(t, p.Have(0))
	checkInvariants(t, p)
	ok, _, _ := p.Received(1, blk(0, 0))
	assert.False(t, ok, "blocks of the reset piece are no longer expected")
	assert.Equal(t, []Block{blk(0, 0), blk(0, 1), blk(0, 2), blk(0, 3)}, p.Pick(1, 4), "downloaded again")
	p.PieceFailed(0) // with requests outstanding: they are dropped
	assert.Equal(t, 0, p.Requested(1))
	p.PieceFailed(1)
	p.PieceFailed(-1)
	p.PieceFailed(9)
	checkInvariants(t, p)
}

func TestPieceVerifiedEarly(t *testing.T) {
	p := newTest(t, 2, 32*kib, 64*kib)
	p.PeerBitfield(1, full(2))
	p.PeerBitfield(2, bf(2, 0))
	got := p.Pick(1, 1)
	require.Len(t, got, 1)
	p.PieceVerified(got[0].Piece)
	p.PieceVerified(got[0].Piece)
	p.PieceVerified(-1)
	assert.Equal(t, 0, p.Requested(1))
	assert.Equal(t, 1, p.Stats().Have)
	checkInvariants(t, p)
	p.PieceVerified(1 - got[0].Piece) // never started
	assert.True(t, p.Done())
	assert.False(t, p.Interesting(1))
	assert.Nil(t, p.Pick(1, 10))
	checkInvariants(t, p)
}
