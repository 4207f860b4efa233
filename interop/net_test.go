package interop

import (
	"fmt"
	"net"
	"sync/atomic"
	"testing"
)

// nextHost numbers the loopback addresses handed to clients. Transmission accepts one peer
// per IP address, so every client process gets its own 127.0.x.y.
var nextHost atomic.Uint32

// host is a client's loopback address and a free TCP port on it.
type host struct {
	IP   string
	Port int
}

func (h host) String() string { return net.JoinHostPort(h.IP, fmt.Sprint(h.Port)) }

// newHost returns a fresh loopback address (never 127.0.0.1, which trackers use) with a free
// port.
func newHost(t *testing.T) host {
	t.Helper()
	n := nextHost.Add(1) - 1
	ip := fmt.Sprintf("127.0.%d.%d", n/250, n%250+2)
	return host{IP: ip, Port: freePort(t, ip)}
}

// freePort asks the kernel for a free TCP port on ip. Another process could take it before
// the tool binds it; on loopback addresses of our own that does not happen in practice.
func freePort(t *testing.T, ip string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("free port on %s: %v", ip, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
