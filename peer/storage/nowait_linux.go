package storage

import (
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// maxNowaitIov bounds the buffers of one nowait read (kept on the stack); more go the
// ordinary way.
const maxNowaitIov = 32

// nowaitUnsupported is set once a file system answers EOPNOTSUPP, so that no read pays for
// a refused attempt again.
var nowaitUnsupported atomic.Bool

// nowaitRead tries preadv2 with RWF_NOWAIT as a raw system call. With RWF_NOWAIT the kernel
// only copies from the page cache and refuses with EAGAIN a read of data not cached, so the
// call is as short as a socket call; raw, the Go scheduler is not told of it, and its
// sysmon thread is not woken for it (see peer/rawsock_linux.go for why that matters).
// ok is false when the read was refused, unsupported or read nothing (the file's end): the
// caller then makes the ordinary, blocking call, which handles all of those.
//
// Writes are not tried this way: ext4 refuses every buffered RWF_NOWAIT write
// (EOPNOTSUPP, 4,096 of 4,096 pieces of a 1 GiB download), and on the seeder's side, where
// this matters, there are none.
func nowaitRead(fd int, iov [][]byte, off int64) (n int, ok bool) {
	if len(iov) > maxNowaitIov || nowaitUnsupported.Load() {
		return 0, false
	}
	var vecs [maxNowaitIov]unix.Iovec
	k := 0
	for _, b := range iov {
		if len(b) == 0 {
			continue
		}
		vecs[k].Base = &b[0]
		vecs[k].SetLen(len(b))
		k++
	}
	if k == 0 {
		return 0, false
	}
	r, _, e := syscall.RawSyscall6(unix.SYS_PREADV2, uintptr(fd), uintptr(unsafe.Pointer(&vecs[0])), uintptr(k),
		uintptr(off), 0, unix.RWF_NOWAIT)
	if e == unix.EOPNOTSUPP {
		nowaitUnsupported.Store(true)
	}
	if e != 0 || r == 0 {
		return 0, false
	}
	return int(r), true
}
