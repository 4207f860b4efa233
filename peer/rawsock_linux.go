package peer

import (
	"io"
	"net"
	"syscall"
	"unsafe"
)

// rawSocket reads and writes a plain TCP connection with raw system calls, which the Go
// scheduler is not told of. A socket call never blocks (the descriptor is non-blocking;
// EAGAIN waits in the netpoller through RawConn, which keeps the deadlines), so nothing is
// lost; what is saved is the runtime's sysmon thread. It parks while the process is idle
// and every system call entered through the runtime wakes it, after which it polls every
// 20 µs for a while: on a seeder that idles between request batches that was ~8% of its
// CPU, in context switches. With the page-cache copies also raw (storage's RWF_NOWAIT
// path), a 1 GiB seeder spends 0.48-0.50 CPU-s instead of 0.56-0.61 (docs/engine.md).
type rawSocket struct {
	rc syscall.RawConn
}

// newRawSocket returns the raw side of nc when nc is, or wraps without changing the bytes,
// a TCP connection; nil otherwise. See plainTCP for when to call it.
func newRawSocket(nc net.Conn) *rawSocket {
	tc := plainTCP(nc)
	if tc == nil {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	return &rawSocket{rc: rc}
}

// Read reads once, waiting in the netpoller while nothing is there.
func (r *rawSocket) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := r.rc.Read(func(fd uintptr) bool {
		for {
			r1, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false
			}
			n, errno = int(r1), e
			return true
		}
	})
	switch {
	case err != nil:
		return 0, err
	case errno != 0:
		return 0, &net.OpError{Op: "read", Net: "tcp", Err: errno}
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// Write writes all of p, waiting in the netpoller while the socket is full.
func (r *rawSocket) Write(p []byte) (int, error) {
	done := 0
	var errno syscall.Errno
	err := r.rc.Write(func(fd uintptr) bool {
		for done < len(p) {
			r1, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[done])), uintptr(len(p)-done))
			switch e {
			case 0:
				done += int(r1)
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false
			default:
				errno = e
				return true
			}
		}
		return true
	})
	if err == nil && errno != 0 {
		err = &net.OpError{Op: "write", Net: "tcp", Err: errno}
	}
	return done, err
}
