package peer

import "github.com/swarm-bt/swarm/peer/wire"

// keptPiece is a piece whose blocks are kept in memory until it is verified: blocks[k] is
// block k, nil until it arrives. Config.HashMemory bounds the bytes of such pieces. A kept
// piece is hashed from memory (the read back was a quarter of the hashing cost) and written
// by the same job once it matches; pieces that do not fit go the disk way: each block
// written as it arrives, then the piece read back and hashed.
type keptPiece struct {
	blocks [][]byte
}

// keep decides at a piece's first block whether to keep its blocks (within HashMemory) and
// keeps block b's buffer when it does. It reports whether the buffer is kept: then it must
// not go back to the pool after its write.
func (s *Swarm) keep(piece int, begin uint32, data []byte) bool {
	kp, seen := s.dl.kept[piece]
	if !seen {
		size := s.cfg.Info.PieceSize(piece)
		if s.dl.keptBytes+size > s.cfg.HashMemory {
			s.dl.kept[piece] = nil // the disk way, for this round of the piece
			return false
		}
		s.dl.keptBytes += size
		kp = &keptPiece{blocks: make([][]byte, (size+wire.BlockSize-1)/wire.BlockSize)}
		s.dl.kept[piece] = kp
	}
	if kp == nil {
		return false
	}
	kp.blocks[begin/wire.BlockSize] = data
	return true
}

// isKept reports whether piece's block buffers are kept until it is verified.
func (s *Swarm) isKept(piece int) bool { return s.dl.kept[piece] != nil }

// keptBlocks returns piece's blocks in order, or nil when the piece goes the disk way or a
// block is missing (which would be a bug: then the disk copy, lacking the kept blocks, fails
// its hash and the piece is fetched again).
func (s *Swarm) keptBlocks(piece int) [][]byte {
	kp := s.dl.kept[piece]
	if kp == nil {
		return nil
	}
	for _, b := range kp.blocks {
		if b == nil {
			return nil
		}
	}
	return kp.blocks
}

// release gives piece's kept buffers back once its hash job is done, whatever its outcome,
// and forgets the decision so that a new round of the piece decides again.
func (s *Swarm) release(piece int) {
	kp, seen := s.dl.kept[piece]
	if !seen {
		return
	}
	delete(s.dl.kept, piece)
	if kp == nil {
		return
	}
	s.dl.keptBytes -= s.cfg.Info.PieceSize(piece)
	for _, b := range kp.blocks {
		if b != nil {
			s.disk.blocks.put(b)
		}
	}
}
