package storage

import (
	"bytes"
	"context"
	"crypto/sha1"
	"fmt"
	"hash"
	"io"
	"runtime"
	"sync"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer/bitfield"
)

// maxChunk bounds a Verifier's buffer: larger pieces are hashed in chunks, so memory does not
// grow with the piece length.
const maxChunk = 1 << 20

// Verifier hashes pieces with one reusable buffer of at most 1 MiB. It is not safe for
// concurrent use: keep one per goroutine.
type Verifier struct {
	info *metainfo.Info
	buf  []byte
	h    hash.Hash
	sum  []byte
}

// NewVerifier returns a Verifier for the pieces of info.
func NewVerifier(info *metainfo.Info) *Verifier {
	n := min(max(info.PieceLength, 1), maxChunk)
	return &Verifier{info: info, buf: make([]byte, n), h: sha1.New(), sum: make([]byte, 0, sha1.Size)}
}

// Reuse returns a Verifier for the pieces of info that reuses v's buffer when it is large
// enough (v may be nil), so that one goroutine verifies the pieces of several torrents with
// one buffer. v must not be used afterwards.
func (v *Verifier) Reuse(info *metainfo.Info) *Verifier {
	if v == nil || int64(len(v.buf)) < min(max(info.PieceLength, 1), maxChunk) {
		return NewVerifier(info)
	}
	v.info = info
	return v
}

// Verify reads piece i from st and reports whether its SHA-1 matches. A storage shorter than
// the torrent gives false, not an error.
func (v *Verifier) Verify(st Storage, i int) (bool, error) {
	if i < 0 || i >= v.info.NumPieces() {
		return false, fmt.Errorf("verify piece %d of %d: %w", i, v.info.NumPieces(), ErrOutOfRange)
	}
	off, size := int64(i)*v.info.PieceLength, v.info.PieceSize(i)
	if size < 0 || size > v.info.PieceLength {
		return false, nil // geometry that no data can match
	}
	v.h.Reset()
	for done := int64(0); done < size; {
		p := v.buf[:min(int64(len(v.buf)), size-done)]
		n, err := st.ReadAt(p, off+done)
		if n < len(p) && err == io.EOF {
			return false, nil // the storage is shorter than the torrent
		}
		if err != nil && err != io.EOF {
			return false, fmt.Errorf("verify piece %d: %w", i, err)
		}
		v.h.Write(p)
		done += int64(len(p))
	}
	return v.matches(i), nil
}

// VerifyData reports whether parts, concatenated, are piece i with its SHA-1: for a piece
// still in memory, so that it need not be read back.
func (v *Verifier) VerifyData(i int, parts [][]byte) bool {
	if i < 0 || i >= v.info.NumPieces() {
		return false
	}
	v.h.Reset()
	for _, p := range parts {
		v.h.Write(p)
	}
	return v.matches(i)
}

// matches reports whether what was hashed since the last Reset is piece i.
func (v *Verifier) matches(i int) bool {
	v.sum = v.h.Sum(v.sum[:0])
	return bytes.Equal(v.sum, v.info.PieceHash(i))
}

type checkResult struct {
	piece int
	ok    bool
	err   error
}

// Check verifies every piece already in st with workers goroutines (0 = all cores) and returns
// the pieces that are good. progress, if non-nil, is called with the count of pieces checked,
// from Check's own goroutine, after each piece. Memory is one buffer per worker (a piece, at
// most 1 MiB).
//
// Fast path: when st implements Presence (file storage does), a piece that depends on a file
// missing or shorter than needed is counted as bad without being read. (A piece of zeros in a
// never-written region is thus reported bad, and downloaded again: harmless.)
//
// On a read error or when ctx ends, Check stops its workers and returns the error with an
// empty bitfield.
func Check(ctx context.Context, info *metainfo.Info, st Storage, workers int, progress func(checked int)) (bitfield.Bitfield, error) {
	n := info.NumPieces()
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(min(workers, n), 1)
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan checkResult, workers)
	var wg sync.WaitGroup
	jobs := make(chan int)
	wg.Go(func() { feed(ctx, jobs, n) })
	for range workers {
		wg.Go(func() { checkWorker(ctx, info, st, jobs, results) })
	}
	go func() { wg.Wait(); close(results) }() // ends when the workers do; collect waits for it
	good, checked, err := collect(results, n, cancel, progress)
	if err == nil && checked < n {
		err = parent.Err() // only the caller's cancellation stops the workers early
	}
	if err != nil {
		return bitfield.Bitfield{}, fmt.Errorf("check: %w", err)
	}
	return good, nil
}

// feed sends the piece indexes to the workers until done or cancelled.
func feed(ctx context.Context, jobs chan<- int, n int) {
	defer close(jobs)
	for i := range n {
		select {
		case jobs <- i:
		case <-ctx.Done():
			return
		}
	}
}

func checkWorker(ctx context.Context, info *metainfo.Info, st Storage, jobs <-chan int, out chan<- checkResult) {
	v := NewVerifier(info)
	pr, _ := st.(Presence)
	for i := range jobs {
		res := checkResult{piece: i}
		if pr == nil || pr.Present(int64(i)*info.PieceLength, info.PieceSize(i)) {
			res.ok, res.err = v.Verify(st, i)
		}
		select {
		case out <- res:
		case <-ctx.Done():
			return
		}
	}
}

// collect gathers results until the channel closes; the first error cancels the rest.
func collect(results <-chan checkResult, n int, cancel func(), progress func(int)) (bitfield.Bitfield, int, error) {
	good := bitfield.New(n)
	var first error
	checked := 0
	for res := range results {
		if res.err != nil {
			if first == nil {
				first = res.err
				cancel()
			}
			continue
		}
		if res.ok {
			good.Set(res.piece)
		}
		checked++
		if progress != nil && first == nil {
			progress(checked)
		}
	}
	return good, checked, first
}
