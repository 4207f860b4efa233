// Package picker chooses which blocks to request from which peer: rarest first with random
// ties, a few random pieces first, partial pieces finished before new ones, and endgame. It is
// pure: no goroutines, no I/O; the swarm loop owns it.
package picker

import (
	"math/rand/v2"

	"github.com/swarm-bt/swarm/peer/bitfield"
)

// PeerID names a peer in the engine's table.
type PeerID int

// Block is one request unit: up to BlockSize bytes of a piece.
type Block struct {
	Piece  int
	Begin  uint32
	Length uint32
}

// Config describes the torrent's geometry and tuning.
type Config struct {
	NumPieces   int
	PieceLength int64
	TotalLength int64
	BlockSize   uint32 // 16 KiB if zero
	// RandomFirst is how many pieces we pick at random before switching to rarest first, so a
	// new peer soon has something to trade; default 4.
	RandomFirst int
	Rand        *rand.Rand
}

// Picker tracks availability, what we have, and which blocks are requested from whom. It is
// not safe for concurrent use.
type Picker struct{}

// New returns a picker; have is the set of pieces already verified (may be empty).
func New(cfg Config, have bitfield.Bitfield) *Picker { panic("unimplemented") }

// PeerBitfield records a peer's bitfield (replacing any earlier one).
func (p *Picker) PeerBitfield(id PeerID, bf bitfield.Bitfield) { panic("unimplemented") }

// PeerHave records a peer's have message.
func (p *Picker) PeerHave(id PeerID, piece int) { panic("unimplemented") }

// PeerGone forgets a peer's availability and returns its outstanding requests to the pool.
func (p *Picker) PeerGone(id PeerID) { panic("unimplemented") }

// Pick returns up to max new blocks to request from peer id, which must have sent its
// availability. In endgame it returns blocks already requested from other peers.
func (p *Picker) Pick(id PeerID, max int) []Block { panic("unimplemented") }

// Received records a block from id. It reports whether the block was expected from id,
// whether its piece now has every block (ready to verify), and the other peers that had the
// same block requested (to cancel, in endgame).
func (p *Picker) Received(id PeerID, b Block) (expected, pieceDone bool, cancel []PeerID) {
	panic("unimplemented")
}

// Release returns a block requested from id to the pool (timeout, choke, reject).
func (p *Picker) Release(id PeerID, b Block) { panic("unimplemented") }

// PieceVerified marks a piece as ours after its hash matched.
func (p *Picker) PieceVerified(piece int) { panic("unimplemented") }

// PieceFailed resets a piece whose hash failed so it is downloaded again.
func (p *Picker) PieceFailed(piece int) { panic("unimplemented") }

// Interesting reports whether peer id has any piece we lack.
func (p *Picker) Interesting(id PeerID) bool { panic("unimplemented") }

// Done reports whether every piece is verified.
func (p *Picker) Done() bool { panic("unimplemented") }
