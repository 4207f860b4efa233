package peer

import "github.com/swarm-bt/swarm/peer/wire"

// freeBlocks is how many idle block buffers a downloading swarm keeps for reuse: as many as
// it may hold at once (kept pieces and pending writes), so that no received block allocates
// once the download is under way. A smaller pool was a third of the allocations of a
// leecher among four (368 MB of garbage per GiB): the GC then ran 21 times and the heap
// doubled its live size. The pool is emptied when the download completes.
func freeBlocks(hashMemory int64) int {
	return int((max(hashMemory, 0) + maxPendingWrites) / wire.BlockSize)
}

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

// drain lets the garbage collector have the idle buffers (the download is over).
func (bp blockPool) drain() {
	for {
		select {
		case <-bp:
		default:
			return
		}
	}
}
