package storage

import (
	"container/list"
	"errors"
	"io"
	"maps"
	"slices"
	"sync"
)

// MaxOpenFiles bounds the file handles one file Storage keeps open. Torrents with thousands of
// files reopen the least recently used ones as needed.
const MaxOpenFiles = 64

// osFile is what the storage needs of an open file; tests inject failing ones.
type osFile interface {
	io.ReaderAt
	io.WriterAt
	Sync() error
	Close() error
}

// handle is one open file. refs counts the reads and writes using it: a handle in use is
// never closed by eviction.
type handle struct {
	f     osFile
	idx   int
	refs  int
	dirty bool // written since opened or last synced
	stale bool // dropped by invalidate while in use: closed at its last release
	el    *list.Element
}

// handleCache is an LRU of open files keyed by file index.
type handleCache struct {
	open  func(idx int) (osFile, error)
	limit int

	mu       sync.Mutex
	lru      list.List // *handle, most recent first
	byIdx    map[int]*handle
	closed   bool
	evictErr error        // first error met closing an evicted handle, reported by Close
	unsynced map[int]bool // files written, then evicted unsynced: syncAll syncs them
}

func newHandleCache(limit int, open func(int) (osFile, error)) *handleCache {
	return &handleCache{open: open, limit: max(limit, 1), byIdx: make(map[int]*handle),
		unsynced: make(map[int]bool)}
}

// acquire returns the open handle of file idx, opening it if needed. The caller releases it.
func (c *handleCache) acquire(idx int) (*handle, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if h, ok := c.byIdx[idx]; ok {
		h.refs++
		c.lru.MoveToFront(h.el)
		return h, nil
	}
	f, err := c.open(idx)
	if err != nil {
		return nil, err
	}
	h := &handle{f: f, idx: idx, refs: 1}
	h.el = c.lru.PushFront(h)
	c.byIdx[idx] = h
	c.evict()
	return h, nil
}

// release ends one use of h; wrote marks it dirty.
func (c *handleCache) release(h *handle, wrote bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h.refs--
	h.dirty = h.dirty || wrote
	if h.stale {
		if h.refs == 0 {
			c.closeStale(h)
		}
		return
	}
	if !c.closed {
		c.evict()
	}
}

// invalidate drops every handle, so that the next access opens the file afresh: unused
// handles close now, handles in use at their last release. Dirty files stay due for syncAll.
func (c *handleCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	for idx, h := range c.byIdx {
		delete(c.byIdx, idx)
		c.lru.Remove(h.el)
		h.stale = true
		if h.refs == 0 {
			c.closeStale(h)
		}
	}
}

// closeStale closes a dropped handle; c.mu is held.
func (c *handleCache) closeStale(h *handle) {
	if h.dirty && c.unsynced != nil {
		c.unsynced[h.idx] = true
	}
	if err := h.f.Close(); err != nil && c.evictErr == nil {
		c.evictErr = err
	}
}

// evict closes unused handles, least recently used first, while over the limit. Handles in
// use stay open, so the cache may exceed its limit while many files are busy at once. Evicted
// files are not synced now (that would be an fsync per write when a torrent's writes hop
// across thousands of files): syncAll reopens and syncs them.
func (c *handleCache) evict() {
	for el := c.lru.Back(); el != nil && len(c.byIdx) > c.limit; {
		prev := el.Prev()
		if h := el.Value.(*handle); h.refs == 0 {
			c.lru.Remove(el)
			delete(c.byIdx, h.idx)
			if h.dirty {
				c.unsynced[h.idx] = true
			}
			if err := h.f.Close(); err != nil && c.evictErr == nil {
				c.evictErr = err
			}
		}
		el = prev
	}
}

// syncAll syncs every file written since the last syncAll, open or evicted. The fsyncs run
// outside the lock (the handles are held so they stay open): a sync of a large download
// takes seconds, and reads for uploads must go on meanwhile.
func (c *handleCache) syncAll() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	var open []*handle
	for _, h := range c.byIdx {
		// A file evicted dirty and reopened since, even just to read, still needs its sync.
		if h.dirty || c.unsynced[h.idx] {
			h.refs++
			h.dirty = false
			delete(c.unsynced, h.idx)
			open = append(open, h)
		}
	}
	evicted := slices.Collect(maps.Keys(c.unsynced))
	clear(c.unsynced)
	c.mu.Unlock()

	var errs []error
	for _, h := range open {
		err := h.f.Sync()
		errs = append(errs, err)
		c.release(h, err != nil) // a failed sync is tried again next time
	}
	for _, idx := range evicted {
		if err := c.syncClosed(idx); err != nil {
			errs = append(errs, err)
			c.mu.Lock()
			if !c.closed {
				c.unsynced[idx] = true
			}
			c.mu.Unlock()
		}
	}
	return errors.Join(errs...)
}

// closeAll closes every handle, without syncing; later acquires fail with ErrClosed.
func (c *handleCache) closeAll() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	errs := []error{c.evictErr}
	for _, h := range c.byIdx {
		errs = append(errs, h.f.Close())
	}
	c.byIdx = nil
	c.unsynced = nil
	c.lru.Init()
	return errors.Join(errs...)
}

// syncClosed reopens an evicted file to sync it.
func (c *handleCache) syncClosed(idx int) error {
	f, err := c.open(idx)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}
