package peertest

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
)

// Network is an in-memory network of net.Pipe connections, so that whole swarms can run
// inside a testing/synctest bubble with fake time. Addresses are loopback TCP addresses; it is
// safe for concurrent use.
type Network struct {
	mu        sync.Mutex
	listeners map[netip.AddrPort]*pipeListener
	nextPort  uint16
}

// NewNetwork returns an empty network.
func NewNetwork() *Network {
	return &Network{listeners: map[netip.AddrPort]*pipeListener{}, nextPort: 10000}
}

// Listen opens a listener on ip at a fresh port.
func (n *Network) Listen(ip netip.Addr) net.Listener {
	n.mu.Lock()
	n.nextPort++
	port := n.nextPort
	n.mu.Unlock()
	l, _ := n.ListenAt(netip.AddrPortFrom(ip, port)) // a fresh port is free
	return l
}

// ListenAt opens a listener at addr, for example to bring a stopped peer back at its old
// address; it fails if addr is in use.
func (n *Network) ListenAt(addr netip.AddrPort) (net.Listener, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.listeners[addr] != nil {
		return nil, &net.OpError{Op: "listen", Net: "tcp", Err: syscall.EADDRINUSE}
	}
	l := &pipeListener{n: n, addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
	n.listeners[addr] = l
	return l, nil
}

// Dial connects to a listener of the network; it has the signature of peer.Config.Dialer.
// Connections appear to come from 127.0.0.1 at a fresh port.
func (n *Network) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	return n.dialFrom(ctx, netip.AddrFrom4([4]byte{127, 0, 0, 1}), network, addr)
}

// DialFrom returns a dialer like Dial whose connections appear to come from ip (another
// host, as far as the engine can tell).
func (n *Network) DialFrom(ip netip.Addr) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		return n.dialFrom(ctx, ip, network, addr)
	}
}

func (n *Network) dialFrom(ctx context.Context, ip netip.Addr, network, addr string) (net.Conn, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	n.mu.Lock()
	l := n.listeners[ap]
	n.nextPort++
	local := netip.AddrPortFrom(ip, n.nextPort)
	n.mu.Unlock()
	if l == nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
	}
	c1, c2 := net.Pipe()
	client := &pipeConn{Conn: c1, local: tcpAddr(local), remote: tcpAddr(ap)}
	server := &pipeConn{Conn: c2, local: tcpAddr(ap), remote: tcpAddr(local)}
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func tcpAddr(ap netip.AddrPort) *net.TCPAddr { return net.TCPAddrFromAddrPort(ap) }

type pipeListener struct {
	n     *Network
	addr  netip.AddrPort
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

// Accept implements net.Listener.
func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener; later dials are refused.
func (l *pipeListener) Close() error {
	l.once.Do(func() {
		l.n.mu.Lock()
		delete(l.n.listeners, l.addr)
		l.n.mu.Unlock()
		close(l.done)
	})
	return nil
}

// Addr implements net.Listener.
func (l *pipeListener) Addr() net.Addr { return tcpAddr(l.addr) }

// pipeConn is a net.Pipe end with TCP addresses.
type pipeConn struct {
	net.Conn
	local, remote net.Addr
}

// LocalAddr implements net.Conn.
func (c *pipeConn) LocalAddr() net.Addr { return c.local }

// RemoteAddr implements net.Conn.
func (c *pipeConn) RemoteAddr() net.Addr { return c.remote }
