package storage

import (
	"fmt"
	"io"
)

// memory is a Storage held in one byte slice.
type memory struct{ b []byte }

// NewMemory returns an in-memory Storage of size bytes, for tests and the demo. A negative
// size is treated as zero.
func NewMemory(size int64) Storage { return &memory{b: make([]byte, max(size, 0))} }

func (m *memory) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read at %d: %w", off, ErrOutOfRange)
	}
	if off >= int64(len(m.b)) {
		return 0, eofIf(len(p) > 0)
	}
	n := copy(p, m.b[off:])
	return n, eofIf(n < len(p))
}

func (m *memory) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off > int64(len(m.b))-int64(len(p)) {
		return 0, fmt.Errorf("write %d bytes at %d of %d: %w", len(p), off, len(m.b), ErrOutOfRange)
	}
	return copy(m.b[off:], p), nil
}

// WriteVecAt writes bufs laid end to end at off (see VectorWriter).
func (m *memory) WriteVecAt(bufs [][]byte, off int64) (int, error) {
	n := vecLen(bufs)
	if off < 0 || off > int64(len(m.b))-n {
		return 0, fmt.Errorf("write %d bytes at %d of %d: %w", n, off, len(m.b), ErrOutOfRange)
	}
	for _, b := range bufs {
		off += int64(copy(m.b[off:], b))
	}
	return int(n), nil
}

func (m *memory) Close() error { return nil }

// eofIf returns io.EOF when short is true: the io.ReaderAt contract for a short read.
func eofIf(short bool) error {
	if short {
		return io.EOF
	}
	return nil
}
