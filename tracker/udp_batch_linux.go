package tracker

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsgConn batches datagrams with recvmmsg and sendmmsg on a raw socket. It is hand-written
// rather than golang.org/x/net/ipv4's ReadBatch because that one allocates a net.UDPAddr and a
// net.IP for every datagram it reads (x/net internal/socket parseInetAddr), and the read loop
// must not allocate per packet. All headers, iovecs and addresses are allocated once.
type mmsgConn struct {
	rc    syscall.RawConn
	ipv6  bool // AF_INET6 socket: peer addresses are written as sockaddr_in6
	hdrs  []mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6

	// state of the call in progress, read by the bound callbacks below
	n, vlen int
	err     error
	recvFn  func(fd uintptr) bool
	sendFn  func(fd uintptr) bool
}

// mmsghdr is struct mmsghdr: Go pads it to the C layout on every Linux architecture.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
}

func newPlatformBatchConn(c *net.UDPConn) (batchConn, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("raw udp socket: %w", err)
	}
	la, _ := c.LocalAddr().(*net.UDPAddr)
	m := &mmsgConn{
		rc:    rc,
		ipv6:  la != nil && la.IP.To4() == nil,
		hdrs:  make([]mmsghdr, udpBatchSize),
		iovs:  make([]unix.Iovec, udpBatchSize),
		names: make([]unix.RawSockaddrInet6, udpBatchSize),
	}
	m.recvFn, m.sendFn = m.recv, m.send
	for i := range m.hdrs {
		h := &m.hdrs[i].hdr
		h.Name = (*byte)(unsafe.Pointer(&m.names[i]))
		h.Iov = &m.iovs[i]
		h.SetIovlen(1)
	}
	return m, nil
}

func (m *mmsgConn) readBatch(ms []udpMsg) (int, error) {
	k := min(len(ms), len(m.hdrs))
	for i := range k {
		m.iovs[i].Base = unsafe.SliceData(ms[i].buf[:cap(ms[i].buf)])
		m.iovs[i].SetLen(cap(ms[i].buf))
		m.hdrs[i].hdr.Namelen = unix.SizeofSockaddrInet6
		m.hdrs[i].hdr.Flags = 0
	}
	m.vlen, m.n, m.err = k, 0, nil
	if err := m.rc.Read(m.recvFn); err != nil {
		return 0, err
	}
	if m.err != nil {
		return 0, m.err
	}
	for i := range m.n {
		h := &m.hdrs[i]
		ms[i].n = int(h.len)
		ms[i].trunc = h.hdr.Flags&unix.MSG_TRUNC != 0
		ms[i].addr = sockaddrToAddrPort(&m.names[i])
	}
	return m.n, nil
}

func (m *mmsgConn) recv(fd uintptr) bool {
	r, _, errno := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&m.hdrs[0])), uintptr(m.vlen), 0, 0, 0)
	if errno == unix.EAGAIN || errno == unix.EINTR {
		return false // wait for the poller to say the socket is readable
	}
	if errno != 0 {
		m.err = fmt.Errorf("recvmmsg: %w", errno)
		return true
	}
	m.n = int(r)
	return true
}

func (m *mmsgConn) writeBatch(ms []udpMsg) error {
	var first error
	for len(ms) > 0 {
		k := min(len(ms), len(m.hdrs))
		for i := range k {
			m.iovs[i].Base = unsafe.SliceData(ms[i].buf)
			m.iovs[i].SetLen(ms[i].n)
			m.hdrs[i].hdr.Namelen = addrPortToSockaddr(&m.names[i], ms[i].addr, m.ipv6)
		}
		m.vlen, m.n, m.err = k, 0, nil
		if err := m.rc.Write(m.sendFn); err != nil {
			return err
		}
		sent := m.n
		if m.err != nil {
			// sendmmsg stops at the first datagram it cannot send: skip that one.
			first = cmpOr(first, m.err)
			sent++
		}
		ms = ms[sent:]
	}
	return first
}

func (m *mmsgConn) send(fd uintptr) bool {
	r, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&m.hdrs[0])), uintptr(m.vlen), 0, 0, 0)
	if errno == unix.EAGAIN || errno == unix.EINTR {
		return false
	}
	if errno != 0 {
		m.err = fmt.Errorf("sendmmsg: %w", errno)
		return true
	}
	m.n = int(r)
	return true
}

// sockaddrToAddrPort reads a sockaddr_in or sockaddr_in6 the kernel wrote.
func sockaddrToAddrPort(sa *unix.RawSockaddrInet6) netip.AddrPort {
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), ntohs(sa4.Port))
	case unix.AF_INET6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), ntohs(sa.Port))
	}
	return netip.AddrPort{}
}

// addrPortToSockaddr writes ap as the socket's family expects and returns the length.
func addrPortToSockaddr(sa *unix.RawSockaddrInet6, ap netip.AddrPort, ipv6 bool) uint32 {
	if !ipv6 {
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		*sa4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Port: ntohs(ap.Port()), Addr: ap.Addr().As4()}
		return unix.SizeofSockaddrInet4
	}
	*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Port: ntohs(ap.Port()), Addr: ap.Addr().As16()}
	return unix.SizeofSockaddrInet6
}

// ntohs swaps a port between network and host order (this is its own inverse). The port field
// of a raw sockaddr holds network-order bytes read as a native uint16.
func ntohs(p uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return uint16(b[0])<<8 | uint16(b[1])
}
