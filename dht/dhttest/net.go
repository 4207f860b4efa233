// Package dhttest is an in-memory UDP network for testing DHT nodes: packets are delivered
// through channels after a random latency, with optional loss, so a thousand nodes run in one
// process inside testing/synctest with fake time.
package dhttest

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// queueLen is each socket's receive queue; packets beyond it are dropped, as the kernel does.
const queueLen = 512

// Network is an in-memory packet network. It is safe for concurrent use.
type Network struct {
	mu         sync.Mutex
	conns      map[netip.AddrPort]*Conn
	rng        *rand.Rand
	loss       float64
	minLatency time.Duration
	maxLatency time.Duration
	grid       time.Duration
	sent       int64
	dropped    int64
}

// NewNetwork returns a network whose one-way latency is uniform in [minLatency, maxLatency]
// rounded down to a multiple of 5 ms (SetGrid changes that), with randomness from seed.
func NewNetwork(seed uint64, minLatency, maxLatency time.Duration) *Network {
	return &Network{
		conns: map[netip.AddrPort]*Conn{}, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		minLatency: minLatency, maxLatency: maxLatency, grid: 5 * time.Millisecond,
	}
}

// SetGrid sets the step latencies are rounded down to (0 = none).
func (n *Network) SetGrid(d time.Duration) {
	n.mu.Lock()
	n.grid = d
	n.mu.Unlock()
}

// SetLoss sets the probability that a packet is dropped.
func (n *Network) SetLoss(p float64) {
	n.mu.Lock()
	n.loss = p
	n.mu.Unlock()
}

// Counts returns the packets sent and the packets dropped so far.
func (n *Network) Counts() (sent, dropped int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.sent, n.dropped
}

// Listen opens a socket at addr.
func (n *Network) Listen(addr netip.AddrPort) (*Conn, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.conns[addr]; ok {
		return nil, errors.New("dhttest: address in use")
	}
	c := &Conn{net: n, addr: addr, in: make(chan packet, queueLen), closed: make(chan struct{}), dl: make(chan struct{})}
	n.conns[addr] = c
	return c, nil
}

type packet struct {
	b    []byte
	from netip.AddrPort
}

func (n *Network) deliver(to netip.AddrPort, p packet) {
	n.mu.Lock()
	c := n.conns[to]
	n.mu.Unlock()
	if c == nil {
		return
	}
	select {
	case c.in <- p:
	default: // queue full
	}
}

// Inject delivers b to the socket at to as if from sent it, at once and without loss: a
// spoofed packet, for hostile tests.
func (n *Network) Inject(from, to netip.AddrPort, b []byte) {
	n.deliver(to, packet{b: append([]byte(nil), b...), from: from})
}

// Conn is one socket of a Network; it implements net.PacketConn.
type Conn struct {
	net    *Network
	addr   netip.AddrPort
	in     chan packet
	closed chan struct{}
	once   sync.Once

	mu       sync.Mutex
	deadline time.Time
	dl       chan struct{} // closed and replaced when the deadline changes
}

var _ net.PacketConn = (*Conn)(nil)

// ReadFrom implements net.PacketConn.
func (c *Conn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		c.mu.Lock()
		dl, changed := c.deadline, c.dl
		c.mu.Unlock()
		var timeout <-chan time.Time
		if !dl.IsZero() {
			d := time.Until(dl)
			if d <= 0 {
				return 0, nil, os.ErrDeadlineExceeded
			}
			t := time.NewTimer(d)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case p := <-c.in:
			return copy(b, p.b), net.UDPAddrFromAddrPort(p.from), nil
		case <-c.closed:
			return 0, nil, net.ErrClosed
		case <-changed:
		case <-timeout:
		}
	}
}

// WriteTo implements net.PacketConn: the packet is copied and delivered later, or dropped.
func (c *Conn) WriteTo(b []byte, addr net.Addr) (int, error) {
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, errors.New("dhttest: not a UDP address")
	}
	to := ua.AddrPort()
	to = netip.AddrPortFrom(to.Addr().Unmap(), to.Port())
	n := c.net
	n.mu.Lock()
	n.sent++
	drop := n.loss > 0 && n.rng.Float64() < n.loss
	lat := n.minLatency
	if span := n.maxLatency - n.minLatency; span > 0 {
		lat += time.Duration(n.rng.Int64N(int64(span)))
	}
	// On a grid: under synctest, packets that land on the same instant are handled in one
	// step of fake time, which makes large simulations several times faster.
	if n.grid > 0 {
		lat = lat.Truncate(n.grid)
	}
	if drop {
		n.dropped++
	}
	n.mu.Unlock()
	if drop {
		return len(b), nil
	}
	p := packet{b: append([]byte(nil), b...), from: c.addr}
	if lat <= 0 {
		n.deliver(to, p)
	} else {
		time.AfterFunc(lat, func() { n.deliver(to, p) })
	}
	return len(b), nil
}

// Close implements net.PacketConn; the address becomes free.
func (c *Conn) Close() error {
	c.once.Do(func() {
		close(c.closed)
		c.net.mu.Lock()
		delete(c.net.conns, c.addr)
		c.net.mu.Unlock()
	})
	return nil
}

// LocalAddr implements net.PacketConn.
func (c *Conn) LocalAddr() net.Addr { return net.UDPAddrFromAddrPort(c.addr) }

// SetDeadline implements net.PacketConn (reads only: writes never block).
func (c *Conn) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }

// SetReadDeadline implements net.PacketConn.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	close(c.dl)
	c.dl = make(chan struct{})
	c.mu.Unlock()
	return nil
}

// SetWriteDeadline implements net.PacketConn; writes never block.
func (c *Conn) SetWriteDeadline(time.Time) error { return nil }
