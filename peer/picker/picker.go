// Package picker chooses which blocks to request from which peer: rarest first with random
// ties, a few random pieces first, partial pieces finished before new ones, and endgame. It is
// pure: no goroutines, no I/O; the swarm loop owns it.
//
// The order of Pick, the endgame rule and the data structures are explained, with the BEP 3,
// mainline, libtorrent and rain behaviour they follow, in NOTES.md.
package picker

import (
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/swarm-bt/swarm/peer/bitfield"
)

// DefaultBlockSize is the request size every client uses (BEP 3: 2^14 bytes).
const DefaultBlockSize = 16 * 1024

// maxPeersPerBlock bounds the requesters of one block, so that block state stays a small
// fixed-size array (endgame duplicates).
const maxPeersPerBlock = 4

// maxBlocksPerPiece bounds the per-block state of one piece in progress (2 GiB pieces of 16 KiB
// blocks, about 5 MiB of state).
const maxBlocksPerPiece = 1 << 17

// ErrGeometry is returned by Config.Validate for a piece count, piece length and total length
// that do not describe one torrent.
var ErrGeometry = errors.New("picker: inconsistent geometry")

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
	// new peer soon has something to trade; default 4, negative for none.
	RandomFirst int
	// EndgameMaxPeers is how many peers may hold a request for the same block in endgame, the
	// first requester included; default 3, at most 4.
	EndgameMaxPeers int
	// Rand breaks ties between equally rare pieces and picks the random-first pieces. Nil means
	// a private generator seeded from crypto/rand (never the global source).
	Rand *rand.Rand
}

// Validate checks that the geometry is consistent: NumPieces is ceil(TotalLength/PieceLength)
// and the tuning values are in range.
func (c Config) Validate() error {
	if c.NumPieces < 0 || c.TotalLength < 0 {
		return fmt.Errorf("%w: %d pieces, %d bytes", ErrGeometry, c.NumPieces, c.TotalLength)
	}
	if c.NumPieces == 0 {
		if c.TotalLength != 0 {
			return fmt.Errorf("%w: no pieces for %d bytes", ErrGeometry, c.TotalLength)
		}
		return nil
	}
	if c.PieceLength <= 0 || c.PieceLength > math.MaxUint32 || int64(int32(c.NumPieces)) != int64(c.NumPieces) {
		return fmt.Errorf("%w: %d pieces of %d bytes", ErrGeometry, c.NumPieces, c.PieceLength)
	}
	want := c.TotalLength / c.PieceLength
	if c.TotalLength%c.PieceLength != 0 {
		want++
	}
	if want != int64(c.NumPieces) {
		return fmt.Errorf("%w: %d bytes in pieces of %d need %d pieces, not %d",
			ErrGeometry, c.TotalLength, c.PieceLength, want, c.NumPieces)
	}
	bs := int64(c.BlockSize)
	if bs == 0 {
		bs = DefaultBlockSize
	}
	if c.PieceLength/bs > maxBlocksPerPiece {
		return fmt.Errorf("%w: pieces of %d bytes have over %d blocks of %d", ErrGeometry, c.PieceLength, maxBlocksPerPiece, bs)
	}
	if c.EndgameMaxPeers < 0 || c.EndgameMaxPeers > maxPeersPerBlock {
		return fmt.Errorf("%w: endgame max peers %d not in [1,%d]", ErrGeometry, c.EndgameMaxPeers, maxPeersPerBlock)
	}
	return nil
}

// Picker tracks availability, what we have, and which blocks are requested from whom. It is
// not safe for concurrent use.
//
// Memory is about 12 bytes per piece (availability, the rarity index and the have bit) plus a
// per-block state only for pieces in progress.
type Picker struct {
	cfg       Config
	rng       *rand.Rand
	blockSize int64
	maxDup    int
	random    int // RandomFirst resolved

	have    bitfield.Bitfield
	numHave int
	avail   []int32 // peers that have each piece
	idx     index   // missing pieces not in progress, by availability

	parts  map[int32]*partial // pieces in progress
	active []*partial         // the same, in a stable order (deterministic picks)
	open   int                // partials with unrequested blocks
	free   []*partial         // dropped partials kept for reuse

	peers map[PeerID]*peerState
	list  []*peerState // the same peers, for fast iteration
	seeds int          // peers that have every piece: counted here, not in avail (libtorrent's m_seeds)
	// unreqAll counts the unrequested blocks of missing pieces, unreqZero those of pieces no
	// non-seed peer has; endgame starts when no piece that some peer has has any (unrequested).
	unreqAll  int
	unreqZero int
	inflight  int // blocks outstanding to at least one peer

	spareSeeds bool // new pieces from seeds only if no other peer has them (SpareSeeds)
}

// New returns a picker; have is the set of pieces already verified (may be empty). It panics
// if cfg fails Validate: geometry comes from a validated torrent, so that is a caller bug.
func New(cfg Config, have bitfield.Bitfield) *Picker {
	if err := cfg.Validate(); err != nil {
		panic(fmt.Sprintf("picker.New: %v", err))
	}
	p := &Picker{cfg: cfg, rng: cfg.Rand, blockSize: int64(cfg.BlockSize), maxDup: cfg.EndgameMaxPeers,
		random: cfg.RandomFirst, parts: make(map[int32]*partial), peers: make(map[PeerID]*peerState)}
	if p.blockSize == 0 {
		p.blockSize = DefaultBlockSize
	}
	if p.maxDup == 0 {
		p.maxDup = 3
	}
	if p.random == 0 {
		p.random = 4
	}
	if p.rng == nil {
		p.rng = newRand()
	}
	p.have = bitfield.New(cfg.NumPieces)
	p.avail = make([]int32, cfg.NumPieces)
	p.idx = newIndex(cfg.NumPieces)
	for i := range cfg.NumPieces {
		if have.Has(i) {
			p.have.Set(i)
			p.numHave++
			continue
		}
		p.idx.insert(int32(i), 0, p.rng)
		p.addUnreqPiece(int32(i), p.numBlocks(i))
	}
	return p
}

func newRand() *rand.Rand {
	var seed [16]byte
	_, _ = crand.Read(seed[:]) // never fails on supported platforms (Go 1.24+)
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])))
}

// pieceLen is the length of piece i; the last one is shorter unless the total is a multiple.
func (p *Picker) pieceLen(i int) int64 {
	if i == p.cfg.NumPieces-1 {
		return p.cfg.TotalLength - int64(i)*p.cfg.PieceLength
	}
	return p.cfg.PieceLength
}

// numBlocks is how many blocks piece i has; the last block may be shorter.
func (p *Picker) numBlocks(i int) int {
	return int((p.pieceLen(i) + p.blockSize - 1) / p.blockSize)
}

// block returns the request for block j of piece i.
func (p *Picker) block(i, j int) Block {
	begin := int64(j) * p.blockSize
	return Block{Piece: i, Begin: uint32(begin), Length: uint32(min(p.blockSize, p.pieceLen(i)-begin))}
}

// Done reports whether every piece is verified.
func (p *Picker) Done() bool { return p.numHave == p.cfg.NumPieces }
