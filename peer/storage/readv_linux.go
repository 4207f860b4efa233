package storage

import (
	"errors"
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
	rc, err := of.SyscallConn()
	if err != nil {
		return err
	}
	var rerr error
	err = rc.Control(func(fd uintptr) {
		for len(iov) > 0 {
			n, err := unix.Preadv(int(fd), iov, off)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil {
				rerr = &os.PathError{Op: "preadv", Path: of.Name(), Err: err}
				return
			}
			if n == 0 { // the file's end: the rest reads as zeros
				for _, b := range iov {
					clear(b)
				}
				return
			}
			off += int64(n)
			for n > 0 {
				k := min(n, len(iov[0]))
				n -= k
				if iov[0] = iov[0][k:]; len(iov[0]) == 0 {
					iov = iov[1:]
				}
			}
		}
	})
	return errors.Join(err, rerr)
}
