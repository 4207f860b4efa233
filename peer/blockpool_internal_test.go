package peer

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/swarm-bt/swarm/peer/wire"
)

func TestBlockPool(t *testing.T) {
	bp := newBlockPool(2)
	a := bp.get(wire.BlockSize)
	assert.Len(t, a, wire.BlockSize)
	short := bp.get(100)
	assert.Len(t, short, 100)
	assert.Equal(t, wire.BlockSize, cap(short), "a short block still takes a pooled size")

	bp.put(a)
	bp.put(short)
	bp.put(make([]byte, wire.BlockSize)) // beyond the bound: dropped
	bp.put(make([]byte, 10))             // another capacity: dropped
	assert.Len(t, bp, 2)

	again := bp.get(wire.BlockSize)
	assert.Same(t, &a[0], &again[0], "a freed buffer is reused")
	assert.Len(t, bp.get(wire.BlockSize+1), wire.BlockSize+1, "an oversize request is allocated")

	var none blockPool
	assert.Len(t, none.get(10), 10)
	none.put(make([]byte, wire.BlockSize)) // a nil pool keeps nothing and does not block
}
