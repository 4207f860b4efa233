package tracker

import (
	"net"
	"net/netip"
)

// udpMaxPacket is the receive buffer of one datagram. A BEP 15 request is at most 98 bytes
// plus BEP 41 options, or 16 + 74*20 = 1,496 bytes for a scrape; anything longer is refused.
const udpMaxPacket = 2048

// udpBatchSize is how many datagrams one recvmmsg or sendmmsg call moves.
const udpBatchSize = 64

// udpMsg is one datagram of a batch: its buffer, length and peer address.
type udpMsg struct {
	buf  []byte
	n    int
	addr netip.AddrPort
	// trunc is set when the datagram was longer than buf.
	trunc bool
}

// batchConn reads and writes datagrams several at a time. readBatch fills ms[:k] (buf keeps
// its capacity; n, addr and trunc are set) and blocks until at least one datagram is there;
// writeBatch sends ms[i].buf[:ms[i].n] to ms[i].addr for every message and returns the first
// error it met after trying them all. Neither allocates in steady state. Not safe for
// concurrent use: each server goroutine owns one.
type batchConn interface {
	readBatch(ms []udpMsg) (int, error)
	writeBatch(ms []udpMsg) error
}

// newBatchConn returns the fastest batchConn for c on this platform.
func newBatchConn(c *net.UDPConn) (batchConn, error) {
	return newPlatformBatchConn(c)
}

// singleConn moves one datagram per system call: the portable fallback.
type singleConn struct {
	c *net.UDPConn
}

func (s *singleConn) readBatch(ms []udpMsg) (int, error) {
	m := &ms[0]
	n, _, _, addr, err := s.c.ReadMsgUDPAddrPort(m.buf[:cap(m.buf)], nil)
	if err != nil {
		return 0, err
	}
	// No valid request fills the buffer, so a full one was cut short.
	m.n, m.addr, m.trunc = n, addr, n == cap(m.buf)
	return 1, nil
}

func (s *singleConn) writeBatch(ms []udpMsg) error {
	var first error
	for i := range ms {
		if _, err := s.c.WriteToUDPAddrPort(ms[i].buf[:ms[i].n], ms[i].addr); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// cmpOr returns a when it is not nil, else b.
func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
