package storage

import (
	"bytes"
	"context"
	"crypto/sha1"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer/bitfield"
)

// VerifyPiece reads piece i from st and reports whether its SHA-1 matches. It allocates one
// piece-sized buffer; Check reuses one per worker.
func VerifyPiece(info *metainfo.Info, st Storage, i int) (bool, error) {
	if i < 0 || i >= info.NumPieces() {
		return false, fmt.Errorf("verify piece %d of %d: %w", i, info.NumPieces(), ErrOutOfRange)
	}
	return verify(info, st, i, make([]byte, max(info.PieceSize(i), 0)))
}

// verify hashes piece i read into buf, which holds at least the piece.
func verify(info *metainfo.Info, st Storage, i int, buf []byte) (bool, error) {
	size := info.PieceSize(i)
	if size < 0 || size > int64(len(buf)) {
		return false, nil // geometry that no data can match
	}
	p := buf[:size]
	if _, err := st.ReadAt(p, int64(i)*info.PieceLength); err != nil && err != io.EOF {
		return false, fmt.Errorf("verify piece %d: %w", i, err)
	} else if err == io.EOF {
		return false, nil // the storage is shorter than the torrent
	}
	sum := sha1.Sum(p)
	return bytes.Equal(sum[:], info.PieceHash(i)), nil
}

type checkResult struct {
	piece int
	ok    bool
	err   error
}

// Check verifies every piece already in st with workers goroutines (0 = all cores) and returns
// the pieces that are good. progress, if non-nil, is called with the count of pieces checked,
// from Check's own goroutine, after each piece. Memory is one piece buffer per worker.
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
	buf := make([]byte, max(info.PieceLength, 0))
	pr, _ := st.(Presence)
	for i := range jobs {
		res := checkResult{piece: i}
		if pr == nil || pr.Present(int64(i)*info.PieceLength, info.PieceSize(i)) {
			res.ok, res.err = verify(info, st, i, buf)
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
