package tracker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
)

// udpSocketBuffer is the kernel buffer asked for each socket, so that a burst of requests
// waits in the kernel rather than being dropped while the loop answers the previous batch.
const udpSocketBuffer = 4 << 20

// ListenUDP opens the UDP sockets of a tracker at addr ("host:port"). A specific host is bound
// as is; an empty or unspecified host ("", "0.0.0.0", "::") is expanded to every address of
// the machine's interfaces, each bound on its own, so that replies leave from the address the
// request was sent to (libtorrent drops replies from any other). perAddr > 1 opens that many
// sockets per address with SO_REUSEPORT (Linux), for the kernel to spread requests over as
// many goroutines; elsewhere it is 1. On error no socket is left open.
func ListenUDP(ctx context.Context, addr string, perAddr int) ([]*net.UDPConn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen udp %q: %w", addr, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("listen udp %q: bad port", addr)
	}
	ips, wildcard, err := bindAddrs(host)
	if err != nil {
		return nil, fmt.Errorf("listen udp %q: %w", addr, err)
	}
	perAddr = max(1, perAddr)
	lc := net.ListenConfig{}
	if perAddr > 1 {
		lc.Control = reusePortControl
		perAddr = max(1, perAddr*b2i(lc.Control != nil))
	}
	var conns []*net.UDPConn
	for _, ip := range ips {
		for range perAddr {
			c, err := listenOne(ctx, &lc, netip.AddrPortFrom(ip, uint16(port)))
			if wildcard && errors.Is(err, syscall.EADDRNOTAVAIL) {
				break // an interface address not ready for binding (IPv6 still tentative)
			}
			if err != nil {
				for _, c := range conns {
					_ = c.Close()
				}
				return nil, fmt.Errorf("listen udp %q: %w", addr, err)
			}
			if port == 0 { // the first socket chose the port: the others share it
				port = uint64(c.LocalAddr().(*net.UDPAddr).Port)
			}
			conns = append(conns, c)
		}
	}
	if len(conns) == 0 {
		return nil, fmt.Errorf("listen udp %q: no address could be bound", addr)
	}
	return conns, nil
}

func listenOne(ctx context.Context, lc *net.ListenConfig, ap netip.AddrPort) (*net.UDPConn, error) {
	network := "udp4"
	if ap.Addr().Is6() {
		network = "udp6"
	}
	pc, err := lc.ListenPacket(ctx, network, ap.String())
	if err != nil {
		return nil, err
	}
	c := pc.(*net.UDPConn)
	_ = c.SetReadBuffer(udpSocketBuffer) // best effort: the kernel caps it at rmem_max
	_ = c.SetWriteBuffer(udpSocketBuffer)
	return c, nil
}

// bindAddrs resolves the host part of a listen address to the addresses to bind, and says
// whether they are the expansion of a wildcard.
func bindAddrs(host string) ([]netip.Addr, bool, error) {
	if host != "" {
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return nil, false, fmt.Errorf("want an IP address: %w", err)
		}
		if !ip.IsUnspecified() {
			return []netip.Addr{ip.Unmap()}, false, nil
		}
		host = ip.String()
	}
	ifAddrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, true, fmt.Errorf("list interface addresses: %w", err)
	}
	var ips []netip.Addr
	for _, a := range ifAddrs {
		pfx, err := netip.ParsePrefix(a.String())
		if err != nil {
			continue
		}
		ip := pfx.Addr()
		// "0.0.0.0" means IPv4 only; "" and "::" mean both. Link-local IPv6 needs a zone.
		if host == "0.0.0.0" && !ip.Is4() || ip.Is6() && ip.IsLinkLocalUnicast() {
			continue
		}
		ips = append(ips, ip)
	}
	if len(ips) == 0 {
		return nil, true, errors.New("no interface address to bind")
	}
	return ips, true, nil
}
