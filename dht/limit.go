package dht

import (
	"net/netip"
	"time"

	"golang.org/x/time/rate"
)

// limiters holds one token bucket per source address, so one host flooding us with queries
// cannot take the node's time from the others. The map is capped: when it is full, idle
// limiters (bucket refilled) are swept, and if it is still full, queries from new addresses
// are refused until some go idle, so memory stays bounded whatever the number of sources.
// Not safe for concurrent use (the Node guards it).
type limiters struct {
	r     rate.Limit
	burst int
	max   int
	m     map[netip.AddrPort]*rate.Limiter
	swept time.Time
}

func newLimiters(r rate.Limit, burst, max int) *limiters {
	return &limiters{r: r, burst: burst, max: max, m: map[netip.AddrPort]*rate.Limiter{}}
}

// allow reports whether a query from addr may be served at now. Loopback and private
// sources are keyed by ip:port (one test or LAN runs many nodes on one address), public ones
// by IP.
func (l *limiters) allow(addr netip.AddrPort, now time.Time) bool {
	k := ipKey(addr)
	lim := l.m[k]
	if lim == nil {
		if len(l.m) >= l.max {
			l.sweep(now)
			if len(l.m) >= l.max {
				return false
			}
		}
		lim = rate.NewLimiter(l.r, l.burst)
		l.m[k] = lim
	}
	return lim.AllowN(now, 1)
}

func (l *limiters) sweep(now time.Time) {
	if now.Sub(l.swept) < time.Second {
		return
	}
	l.swept = now
	for k, lim := range l.m {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.m, k)
		}
	}
}

// addrRules decide which addresses learned from others may be used: never private, loopback
// or otherwise non-routable addresses handed out by public nodes (they would point us, and
// through us others, at someone's LAN), unless the bootstrap nodes are themselves private or
// loopback (a LAN or a test).
type addrRules struct {
	allowLocal bool
}

func isLocal(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast()
}

// usable reports whether addr, learned from the node at from, may be contacted.
func (r addrRules) usable(addr, from netip.AddrPort) bool {
	ip := addr.Addr().Unmap()
	if !ip.IsValid() || addr.Port() == 0 || ip.IsUnspecified() || ip.IsMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsLinkLocalMulticast() || ip == netip.IPv4Unspecified() ||
		ip.Is4() && ip.As4() == [4]byte{255, 255, 255, 255} {
		return false
	}
	if !isLocal(ip) {
		return true
	}
	// A local address is fine from a local source that we may talk to, or when the whole
	// network is local.
	return r.allowLocal || isLocal(from.Addr())
}
