// Command iocost measures what the kernel's I/O paths cost this machine in CPU-seconds per
// GiB, for the engine's choices (docs/engine.md, issue 20): how a seed reads blocks and
// sends them (pread and write, preadv of 16 blocks, sendfile per block, mmap, or sending from
// memory only), and how a leecher writes a piece (16 pwrite of 16 KiB or one pwritev). Run
// by bench/iocost.sh, Linux only.
//
//	iocost recv ADDR                      discard what one connection sends (the receiver)
//	iocost send MODE FILE ADDR            send FILE as piece messages; MODE: pread, preadv16, sendfile, mmap, mem
//	iocost write MODE FILE SIZE_MIB       write SIZE_MIB as 256 KiB pieces; MODE: pwrite, pwritev
package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const block = 16 << 10

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "iocost:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	switch {
	case len(args) == 2 && args[0] == "recv":
		return recv(args[1])
	case len(args) == 4 && args[0] == "send":
		return send(args[1], args[2], args[3])
	case len(args) == 4 && args[0] == "write":
		mib, err := strconv.Atoi(args[3])
		if err != nil {
			return err
		}
		return write(args[1], args[2], int64(mib)<<20)
	}
	return fmt.Errorf("usage: iocost recv ADDR | send MODE FILE ADDR | write MODE FILE SIZE_MIB")
}

// cpu is the process's user+system time so far.
func cpu() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func report(what string, n int64, wall, used time.Duration) {
	gib := float64(n) / (1 << 30)
	fmt.Printf("%-16s %6.2f CPU-s/GiB  (%.0f MiB in %.2f s)\n", what, used.Seconds()/gib, float64(n)/(1<<20), wall.Seconds())
}

func recv(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	c, err := ln.Accept()
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = io.CopyBuffer(io.Discard, struct{ io.Reader }{c}, make([]byte, 256<<10))
	return err
}

// header appends the 13-byte header of a piece message for the block at off.
func header(b []byte, off int64) []byte {
	b = binary.BigEndian.AppendUint32(b, 9+block)
	b = append(b, 7)
	b = binary.BigEndian.AppendUint32(b, uint32(off>>18))
	return binary.BigEndian.AppendUint32(b, uint32(off&(1<<18-1)))
}

func send(mode, path, addr string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := st.Size() / (16 * block) * (16 * block)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	fd := int(f.Fd())
	t0, c0 := time.Now(), cpu()
	switch mode {
	case "pread": // a pread per block into a 64 KiB buffered writer
		bw := bufio.NewWriterSize(c, 64<<10)
		for off := int64(0); off < size; off += block {
			if bw.Available() < 13+block {
				if err := bw.Flush(); err != nil {
					return err
				}
			}
			b := header(bw.AvailableBuffer(), off)[:13+block]
			if _, err := f.ReadAt(b[13:], off); err != nil {
				return err
			}
			_, _ = bw.Write(b)
		}
		err = bw.Flush()
	case "preadv16": // one preadv per 16 blocks behind their headers, one write
		buf := make([]byte, 0, 16*(13+block))
		for off := int64(0); off < size; off += 16 * block {
			buf = buf[:0]
			iov := make([][]byte, 0, 16)
			for k := int64(0); k < 16; k++ {
				buf = header(buf, off+k*block)
				iov = append(iov, buf[len(buf):len(buf)+block])
				buf = buf[:len(buf)+block]
			}
			if _, err := unix.Preadv(fd, iov, off); err != nil {
				return err
			}
			if _, err := c.Write(buf); err != nil {
				return err
			}
		}
	case "sendfile": // per block: the header with MSG_MORE, then sendfile
		rc, err := c.(*net.TCPConn).SyscallConn()
		if err != nil {
			return err
		}
		var h []byte
		for off := int64(0); off < size && err == nil; off += block {
			h = header(h[:0], off)
			o, hs, sent := off, 0, 0
			werr := rc.Write(func(s uintptr) bool {
				for hs < len(h) {
					n, e := unix.SendmsgN(int(s), h[hs:], nil, nil, unix.MSG_MORE)
					if e == unix.EAGAIN {
						return false
					}
					if e != nil {
						err = e
						return true
					}
					hs += n
				}
				for sent < block {
					n, e := unix.Sendfile(int(s), fd, &o, block-sent)
					if e == unix.EAGAIN {
						return false
					}
					if e != nil {
						err = e
						return true
					}
					sent += n
				}
				return true
			})
			if werr != nil {
				return werr
			}
		}
	case "mmap": // the payload mapped, 16 blocks and headers per writev
		m, merr := unix.Mmap(fd, 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
		if merr != nil {
			return merr
		}
		defer func() { _ = unix.Munmap(m) }()
		hb := make([]byte, 0, 16*13)
		for off := int64(0); off < size && err == nil; off += 16 * block {
			hb = hb[:0]
			bufs := make(net.Buffers, 0, 32)
			for k := int64(0); k < 16; k++ {
				o := off + k*block
				hb = header(hb, o)
				bufs = append(bufs, hb[len(hb)-13:], m[o:o+block])
			}
			_, err = bufs.WriteTo(c)
		}
	case "mem": // no reading: 256 KiB writes from one buffer
		buf := make([]byte, 256<<10)
		for off := int64(0); off < size && err == nil; off += int64(len(buf)) {
			_, err = c.Write(buf)
		}
	default:
		return fmt.Errorf("unknown send mode %q", mode)
	}
	if err != nil {
		return err
	}
	report("send "+mode, size, time.Since(t0), cpu()-c0)
	return nil
}

func write(mode, path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	defer f.Close()
	blocks := make([][]byte, 16)
	for i := range blocks {
		blocks[i] = make([]byte, block)
		for j := range blocks[i] {
			blocks[i][j] = byte(j * (i + 1))
		}
	}
	t0, c0 := time.Now(), cpu()
	for off := int64(0); off < size; off += 16 * block {
		switch mode {
		case "pwrite":
			for k, b := range blocks {
				if _, err := f.WriteAt(b, off+int64(k)*block); err != nil {
					return err
				}
			}
		case "pwritev":
			if _, err := unix.Pwritev(int(f.Fd()), blocks, off); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unknown write mode %q", mode)
		}
	}
	report("write "+mode, size, time.Since(t0), cpu()-c0)
	return nil
}
