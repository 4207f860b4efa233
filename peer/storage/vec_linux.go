package storage

import (
	"errors"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// readv fills iov from f at off with preadv(2): one system call where ReadAt would make one
// per buffer. Bytes past the file's end read as zeros.
func readv(f osFile, iov [][]byte, off int64) error {
	of, ok := f.(*os.File)
	if !ok {
		return readvFallback(f, iov, off)
	}
	return vectored(of, "preadv", iov, off, func(fd int, iov [][]byte, off int64) (int, error) {
		if n, ok := nowaitRead(fd, iov, off); ok {
			return n, nil
		}
		n, err := unix.Preadv(fd, iov, off)
		if n == 0 && err == nil { // the file's end: the rest reads as zeros
			for _, b := range iov {
				clear(b)
			}
			n = int(vecLen(iov))
		}
		return n, err
	})
}

// writev writes iov to f at off with pwritev(2): one system call where WriteAt would make
// one per buffer.
func writev(f osFile, iov [][]byte, off int64) error {
	of, ok := f.(*os.File)
	if !ok {
		return writevFallback(f, iov, off)
	}
	return vectored(of, "pwritev", iov, off, unix.Pwritev)
}

// vectored calls op on f's descriptor until iov is done, past short counts and EINTR. iov
// is consumed.
func vectored(f *os.File, name string, iov [][]byte, off int64, op func(fd int, iov [][]byte, off int64) (int, error)) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var opErr error
	err = rc.Control(func(fd uintptr) {
		for len(iov) > 0 {
			n, err := op(int(fd), iov, off)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err == nil && n == 0 {
				err = io.ErrNoProgress
			}
			if err != nil {
				opErr = &os.PathError{Op: name, Path: f.Name(), Err: err}
				return
			}
			off += int64(n)
			for n > 0 || (len(iov) > 0 && len(iov[0]) == 0) {
				k := min(n, len(iov[0]))
				n -= k
				if iov[0] = iov[0][k:]; len(iov[0]) == 0 {
					iov = iov[1:]
				}
			}
		}
	})
	return errors.Join(err, opErr)
}
