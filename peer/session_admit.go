package peer

import (
	"context"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swarm-bt/swarm/peer/wire"
)

// Admission of incoming connections (issue 19, slot exhaustion). Three rules keep a flood
// of connections from making the session unreachable to honest peers:
//   - an address holds at most MaxConnsPerIP incoming connections, pending or connected,
//     so one host cannot take every slot (loopback tests that run many peers on one address
//     raise it explicitly);
//   - the pending handshakes share a budget (maxPendingAccepts) that never refuses a new
//     connection: when it is full, the pending connection that has sent nothing for the
//     longest goes (else the oldest of the address with the most pending), so a raw connect
//     flood only ever displaces its own silent sockets;
//   - a connection must send its first byte within silentTimeout, much sooner than the
//     whole handshake's deadline.
// Connected peers that are neither interested nor interesting are evicted when a new peer
// needs their slot (Swarm.evictIdle).

const (
	// defaultMaxConnsPerIP is SessionConfig.MaxConnsPerIP's default.
	defaultMaxConnsPerIP = 8
	// maxPendingAccepts bounds incoming connections still in their handshake.
	maxPendingAccepts = 256
	// silentTimeout is how long an incoming connection may stay silent before its first
	// byte (the whole handshake has SessionConfig.HandshakeTimeout).
	silentTimeout = 3 * time.Second
)

// admission counts incoming connections per address and the pending handshakes.
type admission struct {
	maxPerIP, maxPending int

	mu      sync.Mutex
	perIP   map[netip.Addr]int
	pending []*admittedConn // in arrival order
}

func newAdmission(maxPerIP, maxPending int) *admission {
	return &admission{maxPerIP: maxPerIP, maxPending: maxPending, perIP: map[netip.Addr]int{}}
}

// admittedConn is an incoming connection counted against its address until it closes.
type admittedConn struct {
	net.Conn
	a        *admission
	ip       netip.Addr
	heard    atomic.Bool // a byte has arrived
	released atomic.Bool
}

// Read implements net.Conn.
func (c *admittedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.heard.Store(true)
	}
	return n, err
}

// Close implements net.Conn; it frees the address's count.
func (c *admittedConn) Close() error {
	if !c.released.Swap(true) {
		c.a.release(c)
	}
	return c.Conn.Close()
}

// admit counts nc against its address, or returns false when the address is at its cap.
// A full pending budget makes room by closing another pending connection.
func (a *admission) admit(nc net.Conn) (*admittedConn, bool) {
	ap, err := netip.ParseAddrPort(nc.RemoteAddr().String())
	ip := ap.Addr().Unmap()
	if err != nil {
		ip = netip.Addr{} // not TCP (a test's pipe): all such share one count
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.perIP[ip] >= a.maxPerIP {
		return nil, false
	}
	if len(a.pending) >= a.maxPending {
		i := a.victim()
		v := a.pending[i]
		a.pending = append(a.pending[:i], a.pending[i+1:]...)
		// Its handshake fails at once; its accept goroutine's Close frees the count.
		_ = v.Conn.Close()
	}
	c := &admittedConn{Conn: nc, a: a, ip: ip}
	a.perIP[ip]++
	a.pending = append(a.pending, c)
	return c, true
}

// victim picks the pending connection to close: the oldest silent one, else the oldest of
// the address with the most pending handshakes.
func (a *admission) victim() int {
	for i, c := range a.pending {
		if !c.heard.Load() {
			return i
		}
	}
	count := map[netip.Addr]int{}
	for _, c := range a.pending {
		count[c.ip]++
	}
	best := 0
	for i, c := range a.pending {
		if count[c.ip] > count[a.pending[best].ip] {
			best = i
		}
	}
	return best
}

// handshaken takes c out of the pending budget (its handshake ended, either way).
func (a *admission) handshaken(c *admittedConn) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.dropPending(c)
}

func (a *admission) dropPending(c *admittedConn) {
	for i, p := range a.pending {
		if p == c {
			a.pending = append(a.pending[:i], a.pending[i+1:]...)
			return
		}
	}
}

func (a *admission) release(c *admittedConn) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.dropPending(c)
	if a.perIP[c.ip]--; a.perIP[c.ip] <= 0 {
		delete(a.perIP, c.ip)
	}
}

// acceptLoop accepts incoming connections until ctx ends, which closes the listener.
func (s *Session) acceptLoop(ctx context.Context) {
	l := s.cfg.Listener
	stop := context.AfterFunc(ctx, func() { _ = l.Close() })
	defer stop()
	for {
		nc, err := l.Accept()
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("accept stopped: no more incoming connections", "err", err)
			}
			return
		}
		c, ok := s.admit.admit(nc)
		if !ok {
			s.log.Debug("incoming connection refused: too many from its address", "peer", nc.RemoteAddr().String())
			_ = nc.Close()
			continue
		}
		s.wg.Go(func() { s.accept(ctx, c) })
	}
}

// accept shakes hands with an incoming connection and hands it to its torrent's swarm.
func (s *Session) accept(ctx context.Context, ac *admittedConn) {
	nc, err := s.awaitFirstByte(ctx, ac)
	var c net.Conn
	var hs wire.Handshake
	var sw *Swarm
	if err == nil {
		c, hs, sw, err = s.handshakeIncoming(ctx, nc)
	}
	s.admit.handshaken(ac)
	if err != nil {
		s.log.Debug("incoming handshake failed", "peer", ac.RemoteAddr().String(), "err", err)
		_ = ac.Close()
		return
	}
	addr, _ := netip.ParseAddrPort(ac.RemoteAddr().String())
	if !sw.deliver(ctx, connectedEvent{nc: c, addr: addr, hs: hs}) {
		_ = c.Close()
	}
}

// awaitFirstByte gives a silent connection silentTimeout (or the handshake timeout, if
// shorter) to send its first byte, and returns a connection that replays it.
func (s *Session) awaitFirstByte(ctx context.Context, ac *admittedConn) (net.Conn, error) {
	var b [1]byte
	err := withDeadline(ctx, ac, min(silentTimeout, s.cfg.HandshakeTimeout), func() error {
		_, err := io.ReadFull(ac, b[:])
		return err
	})
	if err != nil {
		return nil, err
	}
	return newReplayConn(ac, b[:]), nil
}
