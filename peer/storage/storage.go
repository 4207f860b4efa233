// Package storage maps a torrent's pieces onto files (or memory) and verifies them.
//
// The payload is one flat range of TotalLength bytes; a Storage splits reads and writes across
// file boundaries. Files live under a download folder opened as an os.Root, so no path in a
// torrent (nor a symlink already in the folder) can make us touch a file outside it.
package storage

import (
	"bytes"
	"errors"
	"fmt"
)

// Storage is the payload as one flat range of TotalLength bytes. Implementations are safe for
// concurrent use by goroutines touching different ranges.
//
// ReadAt returns zeros, not an error, for bytes inside the payload that were never written
// (so a check sees a hash mismatch), and io.EOF only past the end of the payload. WriteAt
// past the end fails with ErrOutOfRange; a full disk gives an error matching ErrDiskFull.
type Storage interface {
	ReadAt(p []byte, off int64) (int, error)
	WriteAt(p []byte, off int64) (int, error)
	// Close releases files (written data is with the system, not necessarily on disk: see
	// Syncer). The caller stops all reads and writes first.
	Close() error
}

// VectorReader is implemented by a Storage that fills several buffers from one contiguous
// range at once: ReadVecAt(bufs, off) reads as ReadAt would into the buffers laid end to end
// (zeros for bytes never written, io.EOF past the payload's end) and returns the bytes
// filled. The files storage does one preadv per file on Linux, where ReadAt per buffer would
// be one pread each: a seed serving several contiguous blocks reads them with one call.
type VectorReader interface {
	ReadVecAt(bufs [][]byte, off int64) (int, error)
}

// ReadVec is ReadVecAt when st implements VectorReader and one ReadAt per buffer otherwise.
func ReadVec(st Storage, bufs [][]byte, off int64) (int, error) {
	if vr, ok := st.(VectorReader); ok {
		return vr.ReadVecAt(bufs, off)
	}
	done := 0
	for _, b := range bufs {
		n, err := st.ReadAt(b, off+int64(done))
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// VectorWriter is implemented by a Storage that writes several buffers to one contiguous
// range at once: WriteVecAt(bufs, off) writes as WriteAt would the buffers laid end to end.
// The files storage does one pwritev per file on Linux: for a piece of 16 KiB blocks, one
// call instead of 16, which halves the kernel's cost of the writes.
type VectorWriter interface {
	WriteVecAt(bufs [][]byte, off int64) (int, error)
}

// WriteVec is WriteVecAt when st implements VectorWriter and otherwise one WriteAt of the
// buffers joined (so that a range past the end is refused whole, as by WriteVecAt).
func WriteVec(st Storage, bufs [][]byte, off int64) (int, error) {
	if vw, ok := st.(VectorWriter); ok {
		return vw.WriteVecAt(bufs, off)
	}
	return st.WriteAt(bytes.Join(bufs, nil), off)
}

// Presence is implemented by a Storage that can tell, without reading, that a range holds no
// data: Present reports false when some byte of [off, off+n) lies past the end of its file
// (a file missing or shorter than needed). Check uses it to skip such pieces as bad.
type Presence interface {
	Present(off, n int64) bool
}

// Syncer is implemented by a Storage whose writes can be made durable: Sync returns once
// everything written so far is on disk (fsync), for callers that promise durability, such as
// swarm get --fsync.
type Syncer interface {
	Sync() error
}

// Refresher is implemented by a Storage that keeps files open: Refresh closes them (those in
// use when their read or write ends) and reads the files' sizes again, so that later reads
// see files replaced, truncated or deleted since they were opened. A recheck of a running
// torrent calls it first. Safe for concurrent use with reads and writes.
type Refresher interface {
	Refresh() error
}

// Sentinel errors; match with errors.Is.
var (
	// ErrDiskFull is matched by write errors caused by a full disk (ENOSPC) or an exhausted
	// quota (EDQUOT). The concrete error is a *DiskFullError naming the file.
	ErrDiskFull = errors.New("storage: disk full")
	// ErrOutOfRange is returned for a negative offset or a write past the payload's end.
	ErrOutOfRange = errors.New("storage: range out of bounds")
	// ErrClosed is returned by reads and writes after Close.
	ErrClosed = errors.New("storage: closed")
)

// DiskFullError is the error of a write that failed because the disk or quota is full. It
// matches ErrDiskFull and the underlying errno (syscall.ENOSPC or syscall.EDQUOT) with
// errors.Is.
type DiskFullError struct {
	Path string // the file being written, under the download folder
	// Need is the disk space the rest of the payload needs: the sum over its files of each
	// file's length less the space it takes on disk (its allocated blocks, so the holes of a
	// sparse file written out of order count as needed). Block rounding and file-system
	// metadata make it an estimate, accurate to a few blocks per file.
	Need int64
	Err  error // the errno
}

func (e *DiskFullError) Error() string {
	return fmt.Sprintf("write %s: disk full, at least %d more bytes needed: %v", e.Path, e.Need, e.Err)
}

// Is makes errors.Is(err, ErrDiskFull) true.
func (e *DiskFullError) Is(target error) bool { return target == ErrDiskFull }

// Unwrap returns the errno.
func (e *DiskFullError) Unwrap() error { return e.Err }
