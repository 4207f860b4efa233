package peer

import "github.com/swarm-bt/swarm/peer/wire"

// freeBlocks bounds the idle block buffers kept for reuse (4 MiB).
const freeBlocks = 256

// blockPool is a bounded free list of BlockSize buffers for received blocks: a connection's
// reader takes one per piece message (wire.Reader.SetBlockAlloc) and the loop gives it back
// once the block is on disk, or at once if the block is dropped (unrequested, withdrawn,
// duplicate). Safe for concurrent use; a nil pool allocates and frees nothing.
type blockPool chan []byte

func newBlockPool(n int) blockPool { return make(blockPool, n) }

// get returns a buffer of length n (at most BlockSize) that nobody else uses.
func (bp blockPool) get(n int) []byte {
	if n > wire.BlockSize {
		return make([]byte, n)
	}
	select {
	case b := <-bp:
		return b[:n]
	default:
		return make([]byte, n, wire.BlockSize)
	}
}

// put gives b back; the caller must not use it afterwards. Buffers of another capacity, and
// any beyond the bound, are left to the garbage collector.
func (bp blockPool) put(b []byte) {
	if cap(b) != wire.BlockSize {
		return
	}
	select {
	case bp <- b[:wire.BlockSize]:
	default:
	}
}
