package metainfo

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"sync"
)

// segment is one file of the payload, in torrent order.
type segment struct {
	name   string // for error messages
	length int64
	open   func() (io.ReadCloser, error)
}

// pieceJob is one full (or final, shorter) piece read into a pooled buffer.
type pieceJob struct {
	index int
	buf   []byte // pooled buffer; data is buf[:n]
	n     int
}

// bufferBudget bounds the bytes held in piece buffers, so memory does not grow with the
// content; at least workers+1 buffers are kept so every worker can hash while the reader fills.
const bufferBudget = 32 << 20

// hashPieces streams the segments back to back, cutting them into pieces across file
// boundaries, and returns the concatenated SHA-1 of every piece. One reader goroutine fills a
// bounded pool of piece buffers; workers hash them in parallel and write each digest at its
// piece's offset, so the order of completion does not matter. progress (if not nil) is called
// after each piece, from one goroutine at a time, with bytes hashed so far and the total.
func hashPieces(ctx context.Context, segs []segment, pl int64, workers int, progress func(hashed, total int64)) ([]byte, error) {
	var total int64
	for _, s := range segs {
		total += s.length
	}
	n := total / pl
	if total%pl != 0 {
		n++
	}
	pieces := make([]byte, n*HashSize)
	if n == 0 {
		return pieces, nil
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	nbuf := int(min(max(bufferBudget/pl, int64(workers)+1), int64(4*workers)))
	pool := &bufPool{free: make(chan []byte, nbuf), limit: nbuf, size: int(pl)}
	jobs := make(chan pieceJob, nbuf)
	rep := &reporter{total: total, fn: progress}
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(jobs)
		if err := readPieces(ctx, segs, int(pl), pool, jobs); err != nil {
			cancel(err)
		}
	})
	for range workers {
		wg.Go(func() { hashWorker(ctx, jobs, pool, pieces, rep) })
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	return pieces, nil
}

func hashWorker(ctx context.Context, jobs <-chan pieceJob, pool *bufPool, pieces []byte, rep *reporter) {
	for j := range jobs {
		if ctx.Err() == nil {
			sum := sha1.Sum(j.buf[:j.n])
			copy(pieces[j.index*HashSize:], sum[:])
			rep.add(int64(j.n))
		}
		pool.put(j.buf)
	}
}

// readPieces reads the segments in order into pooled buffers and sends each filled piece.
func readPieces(ctx context.Context, segs []segment, pl int, pool *bufPool, jobs chan<- pieceJob) error {
	cur := pieceJob{}
	send := func() error {
		select {
		case jobs <- cur:
			cur = pieceJob{index: cur.index + 1}
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	for _, s := range segs {
		if s.length == 0 {
			continue
		}
		r, err := s.open()
		if err != nil {
			return fmt.Errorf("hash %s: %w", s.name, err)
		}
		err = readSegment(ctx, r, s, pl, pool, &cur, send)
		r.Close()
		if err != nil {
			return err
		}
	}
	if cur.n > 0 {
		return send()
	}
	return nil
}

// readSegment copies one segment into the current piece, sending pieces as they fill.
func readSegment(ctx context.Context, r io.Reader, s segment, pl int, pool *bufPool, cur *pieceJob, send func() error) error {
	for left := s.length; left > 0; {
		if cur.buf == nil {
			b, err := pool.get(ctx)
			if err != nil {
				return err
			}
			cur.buf = b
		}
		want := int(min(int64(pl-cur.n), left))
		got, err := io.ReadFull(r, cur.buf[cur.n:cur.n+want])
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("hash %s: file shrank while hashing (%d bytes short)", s.name, left-int64(got))
		}
		if err != nil {
			return fmt.Errorf("hash %s: %w", s.name, err)
		}
		cur.n += got
		left -= int64(got)
		if cur.n == pl {
			if err := send(); err != nil {
				return err
			}
		}
	}
	return nil
}

// bufPool hands out at most limit piece buffers, allocated on first use and recycled.
type bufPool struct {
	free  chan []byte
	limit int
	made  int // touched only by the reader goroutine
	size  int
}

func (p *bufPool) get(ctx context.Context) ([]byte, error) {
	select {
	case b := <-p.free:
		return b, nil
	default:
	}
	if p.made < p.limit {
		p.made++
		return make([]byte, p.size), nil
	}
	select {
	case b := <-p.free:
		return b, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// put never blocks: the channel holds every buffer ever made.
func (p *bufPool) put(b []byte) { p.free <- b }

// reporter serialises progress callbacks.
type reporter struct {
	mu     sync.Mutex
	hashed int64
	total  int64
	fn     func(hashed, total int64)
}

func (r *reporter) add(n int64) {
	if r.fn == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hashed += n
	r.fn(r.hashed, r.total)
}
