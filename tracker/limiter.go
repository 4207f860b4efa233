package tracker

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxLimitedIPs bounds the limiter table. When it is full, unknown addresses are let through
// rather than refused, so that a flood of spoofed sources cannot lock out real clients.
const maxLimitedIPs = 1 << 20

// ipLimiter is a token bucket per source address.
type ipLimiter struct {
	mu    sync.Mutex
	m     map[netip.Addr]*rate.Limiter
	limit rate.Limit
	burst int
}

func newIPLimiter(limit rate.Limit, burst int) *ipLimiter {
	return &ipLimiter{m: make(map[netip.Addr]*rate.Limiter), limit: limit, burst: burst}
}

func (l *ipLimiter) allow(ip netip.Addr, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.m[ip]
	if lim == nil {
		if len(l.m) >= maxLimitedIPs {
			return true
		}
		lim = rate.NewLimiter(l.limit, l.burst)
		l.m[ip] = lim
	}
	return lim.AllowN(now, 1)
}

// peek reports whether ip has a token left, without taking it.
func (l *ipLimiter) peek(ip netip.Addr, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.m[ip]
	return lim == nil || lim.TokensAt(now) >= 1
}

// sweep forgets limiters whose bucket has refilled: they behave like new ones.
func (l *ipLimiter) sweep(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for ip, lim := range l.m {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.m, ip)
		}
	}
}
