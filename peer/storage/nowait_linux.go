package storage

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// maxNowaitIov bounds the buffers of one nowait call (kept on the stack); more go the
// ordinary way.
const maxNowaitIov = 32

// nowaitVec tries preadv2 or pwritev2 (sysno) with RWF_NOWAIT as a raw system call. With
// RWF_NOWAIT the kernel only copies between user memory and the page cache and refuses with
// EAGAIN whatever would block (data not cached, a write that must allocate or wait), so the
// call is as short as a socket call; raw, the Go scheduler is not told of it, and its
// sysmon thread is not woken for it (see peer/rawsock_linux.go for why that matters).
// ok is false when the call was refused, unsupported or read nothing (the file's end): the
// caller then makes the ordinary, blocking call, which handles all of those.
func nowaitVec(sysno uintptr, fd int, iov [][]byte, off int64) (n int, ok bool) {
	if len(iov) > maxNowaitIov {
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
	r, _, e := syscall.RawSyscall6(sysno, uintptr(fd), uintptr(unsafe.Pointer(&vecs[0])), uintptr(k),
		uintptr(off), 0, unix.RWF_NOWAIT)
	if e != 0 || r == 0 {
		return 0, false
	}
	return int(r), true
}
