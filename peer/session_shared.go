package peer

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// slots is a counting bound shared by the swarms' loops without blocking them.
type slots struct {
	n   atomic.Int64
	max int64
}

// tryAcquire takes a slot if one is free.
func (c *slots) tryAcquire() bool {
	for {
		v := c.n.Load()
		if v >= c.max {
			return false
		}
		if c.n.CompareAndSwap(v, v+1) {
			return true
		}
	}
}

func (c *slots) full() bool { return c.n.Load() >= c.max }
func (c *slots) release()   { c.n.Add(-1) }

// selfAddrs are addresses that reach this session: never dialled. They are the listen
// address (every local address with our port when it listens on all of them) and the
// addresses a dial found to be ourselves (a tracker listing us back, a NAT's public address).
type selfAddrs struct {
	mu   sync.Mutex
	m    map[netip.AddrPort]bool
	dial map[netip.AddrPort]netip.AddrPort // local address of a dial in its handshake → where it went
}

// dialing records a dial in its handshake, from local to addr; the returned func forgets it.
func (a *selfAddrs) dialing(local net.Addr, addr netip.AddrPort) func() {
	ap, err := netip.ParseAddrPort(local.String())
	if err != nil {
		return func() {}
	}
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	a.mu.Lock()
	a.dial[ap] = addr
	a.mu.Unlock()
	return func() {
		a.mu.Lock()
		delete(a.dial, ap)
		a.mu.Unlock()
	}
}

// fromDial handles an incoming connection with our own peer ID: when it comes from one of
// our dials, the address dialled is ours.
func (a *selfAddrs) fromDial(remote net.Addr) {
	ap, err := netip.ParseAddrPort(remote.String())
	if err != nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if to, ok := a.dial[netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())]; ok {
		a.m[to] = true
	}
}

func (a *selfAddrs) addListener(ap netip.AddrPort) {
	ip := ap.Addr().Unmap()
	if !ip.IsUnspecified() {
		a.add(netip.AddrPortFrom(ip, ap.Port()))
		return
	}
	a.add(netip.AddrPortFrom(netip.IPv6Loopback(), ap.Port()))
	a.add(netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), ap.Port()))
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return
	}
	for _, ia := range addrs {
		if pfx, err := netip.ParsePrefix(ia.String()); err == nil {
			a.add(netip.AddrPortFrom(pfx.Addr().Unmap(), ap.Port()))
		}
	}
}

func (a *selfAddrs) add(ap netip.AddrPort) {
	a.mu.Lock()
	a.m[ap] = true
	a.mu.Unlock()
}

func (a *selfAddrs) has(ap netip.AddrPort) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.m[ap]
}
