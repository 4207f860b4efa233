package redisstore

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// dial builds the client for a redis:// or redis-cluster:// URL. Connections are made on
// demand. Retries are off: the breaker below decides when to try Redis again, so that a
// dead Redis costs a request nothing and a slow one costs it at most one timeout.
func dial(raw string, pool int, timeout time.Duration) (redis.UniversalClient, *redis.ClusterClient, error) {
	maint := &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	switch {
	case strings.HasPrefix(raw, "redis://"):
		opt, err := redis.ParseURL(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("redisstore: %w", err)
		}
		opt.Protocol, opt.DisableIdentity, opt.MaintNotificationsConfig = 2, true, maint
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout, opt.PoolTimeout = timeout, timeout, timeout, timeout
		opt.ContextTimeoutEnabled, opt.MaxRetries, opt.PoolSize = true, -1, pool
		return redis.NewClient(opt), nil, nil
	case strings.HasPrefix(raw, "redis-cluster://"):
		hosts := strings.TrimSuffix(strings.TrimPrefix(raw, "redis-cluster://"), "/")
		var addrs []string
		for _, a := range strings.Split(hosts, ",") {
			if a = strings.TrimSpace(a); a != "" {
				addrs = append(addrs, a)
			}
		}
		if len(addrs) == 0 {
			return nil, nil, errors.New("redisstore: redis-cluster:// URL names no node")
		}
		c := redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: addrs, Protocol: 2, DisableIdentity: true, MaintNotificationsConfig: maint,
			DialTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout, PoolTimeout: timeout,
			ContextTimeoutEnabled: true, MaxRetries: -1, PoolSize: pool,
		})
		return c, c, nil
	}
	return nil, nil, fmt.Errorf("redisstore: unsupported URL %q: want redis://HOST:PORT/DB or redis-cluster://HOST:PORT,...", raw)
}

// Backoff of the breaker: the first retry after a failure is quick, later ones double up to
// maxBackoff, so a Redis that restarts is found again within about two seconds.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 2 * time.Second
)

// breaker stops sending work to a Redis that failed: while it is open every operation fails
// at once (no pile-up of requests waiting for timeouts), and after each backoff one
// operation at a time probes Redis; the first success closes it.
type breaker struct {
	mu      sync.Mutex
	fails   int
	until   time.Time
	probing bool
}

func (b *breaker) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.fails == 0:
		return true
	case b.probing || now.Before(b.until):
		return false
	}
	b.probing = true
	return true
}

// done records an outcome and reports whether Redis just went down (to log it once).
func (b *breaker) done(err error, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = false
	if !isOutage(err) {
		b.fails = 0
		return false
	}
	b.fails++
	b.until = now.Add(min(minBackoff<<min(b.fails-1, 10), maxBackoff))
	return b.fails == 1
}

// cancelled forgets a probe its caller gave up on.
func (b *breaker) cancelled() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = false
}

func (b *breaker) down() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.fails > 0
}

// isOutage tells errors that mean Redis cannot serve (network errors, timeouts, a loading
// or failing-over server) from replies about a command (which say nothing of its health).
func isOutage(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) {
		return false
	}
	var re redis.Error
	if !errors.As(err, &re) {
		return true
	}
	for _, p := range []string{"LOADING", "CLUSTERDOWN", "TRYAGAIN", "MASTERDOWN", "READONLY", "BUSY"} {
		if strings.HasPrefix(re.Error(), p) {
			return true
		}
	}
	return false
}
