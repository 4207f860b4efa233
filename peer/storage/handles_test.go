package storage

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingFile records syncs and closes per file index.
type countingFile struct {
	fakeFile
	idx int
	log *fileLog
}

type fileLog struct{ opened, synced, closed map[int]int }

func (f countingFile) Sync() error  { f.log.synced[f.idx]++; return nil }
func (f countingFile) Close() error { f.log.closed[f.idx]++; return nil }

func TestHandleCache(t *testing.T) {
	log := &fileLog{map[int]int{}, map[int]int{}, map[int]int{}}
	c := newHandleCache(2, func(idx int) (osFile, error) {
		log.opened[idx]++
		return countingFile{idx: idx, log: log}, nil
	})
	busy, err := c.acquire(0) // stays in use throughout
	require.NoError(t, err)
	for i := 1; i <= 4; i++ {
		h, err := c.acquire(i)
		require.NoError(t, err)
		c.release(h, i%2 == 0) // files 2 and 4 written
		assert.LessOrEqual(t, len(c.byIdx), 2)
	}
	assert.Equal(t, 0, log.closed[0], "a handle in use is never evicted")
	assert.Equal(t, 1, log.closed[1])
	assert.Equal(t, 0, log.synced[2], "no fsync on eviction")
	c.release(busy, true)
	require.NoError(t, c.syncAll())
	assert.Equal(t, map[int]int{0: 1, 2: 1, 4: 1}, log.synced, "every written file synced once, evicted ones too")
	require.NoError(t, c.syncAll())
	assert.Equal(t, map[int]int{0: 1, 2: 1, 4: 1}, log.synced, "nothing written since: no sync")
	h, err := c.acquire(1)
	require.NoError(t, err)
	c.release(h, true)
	require.NoError(t, c.closeAll())
	assert.Equal(t, 0, log.synced[1], "close does not sync")
	for i := range 5 {
		assert.Equal(t, log.opened[i], log.closed[i], "file %d closed as often as opened", i)
	}
	_, err = c.acquire(1)
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, c.syncAll(), ErrClosed)
}

// TestHandleCacheSyncsEvictedThenReopened: a file written, evicted and reopened only to be
// read must still be synced.
func TestHandleCacheSyncsEvictedThenReopened(t *testing.T) {
	log := &fileLog{map[int]int{}, map[int]int{}, map[int]int{}}
	c := newHandleCache(1, func(idx int) (osFile, error) {
		log.opened[idx]++
		return countingFile{idx: idx, log: log}, nil
	})
	use := func(idx int, wrote bool) {
		h, err := c.acquire(idx)
		require.NoError(t, err)
		c.release(h, wrote)
	}
	use(0, true)  // written
	use(1, false) // evicts 0, dirty
	use(0, false) // 0 back, only read
	require.NoError(t, c.syncAll())
	assert.Equal(t, 1, log.synced[0], "written file synced although its open handle is clean")
	require.NoError(t, c.syncAll())
	assert.Equal(t, 1, log.synced[0], "synced once")
	require.NoError(t, c.closeAll())
}
