package tracker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/time/rate"

	"github.com/swarm-bt/swarm/metainfo"
)

// Config configures a Server. The zero value is an open tracker with a 30-minute interval.
type Config struct {
	// Logger receives lifecycle and error logs; nil means slog.Default().
	Logger *slog.Logger
	// Store holds the swarms; nil means a MemStore built from the limits below and Rand.
	Store Store
	// Interval is the announce interval told to clients; 0 means 30 minutes. Peers silent for
	// two intervals expire.
	Interval time.Duration
	// MinInterval is the "min interval" told to clients; 0 means Interval/2.
	MinInterval time.Duration
	// ReapEvery is how often Run expires peers; 0 means Interval/2.
	ReapEvery time.Duration
	// Allow restricts the tracker to some info-hashes; nil means open (any info-hash).
	Allow func(metainfo.Hash) bool
	// RatePerIP limits announces and scrapes per second from one IP address; 0 means
	// DefaultRatePerIP, negative means no limit.
	RatePerIP rate.Limit
	// RateBurst is the limiter's burst; 0 means max(1, 2*RatePerIP).
	RateBurst int
	// NewSwarmsPerMinute limits how many swarms one IP address may start per minute (with as
	// large a burst); 0 means DefaultNewSwarmsPerMinute, negative means no limit.
	NewSwarmsPerMinute int
	// MaxPeersPerSwarm caps each swarm of the default MemStore; 0 means no cap.
	MaxPeersPerSwarm int
	// MaxSwarms caps the swarms of the default MemStore; 0 means DefaultMaxSwarms, negative
	// means no cap.
	MaxSwarms int
	// TrustProxy takes the peer address from the last X-Forwarded-For entry instead of the
	// connection (ip= is always ignored). Enable it only behind a reverse proxy that sets the header.
	TrustProxy bool
	// FullScrape answers a scrape without info_hash with every swarm.
	FullScrape bool
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Rand seeds peer sampling; nil means a random seed.
	Rand *rand.Rand
	// Registry receives the metrics and serves /metrics; nil means a private registry.
	Registry *prometheus.Registry
}

// Defaults that bound what one client, or a flood of them, can cost (issue 19): 1.19 million
// made-up info-hashes from one client once took 975 MB in 22 s.
const (
	// DefaultRatePerIP is the default announce rate per address, with a burst of twice that:
	// a client announces a torrent every few minutes, a seedbox a few per second.
	DefaultRatePerIP rate.Limit = 20
	// DefaultNewSwarmsPerMinute is how many swarms one address may start per minute.
	DefaultNewSwarmsPerMinute = 300
	// DefaultMaxSwarms caps the swarms of the default MemStore: about 200 MB when each holds
	// one peer (a one-peer swarm costs about 400 bytes).
	DefaultMaxSwarms = 500_000
)

// LogValue summarises the configuration for logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Duration("interval", c.Interval),
		slog.Bool("open", c.Allow == nil),
		slog.Float64("rate_per_ip", float64(c.RatePerIP)),
		slog.Int("max_peers_per_swarm", c.MaxPeersPerSwarm),
		slog.Int("max_swarms", c.MaxSwarms),
		slog.Int("new_swarms_per_minute", c.NewSwarmsPerMinute),
		slog.Bool("trust_proxy", c.TrustProxy),
		slog.Bool("full_scrape", c.FullScrape),
	)
}

// Server is an HTTP tracker. It is an http.Handler; Run expires silent peers in the
// background. All methods are safe for concurrent use.
type Server struct {
	cfg       Config
	log       *slog.Logger
	store     Store
	limiter   *ipLimiter // nil: no limit
	newSwarms *ipLimiter // nil: no limit
	metrics   *metrics
	stats     statsCache
	handler   http.Handler
	bufs      sync.Pool // of *replyBuf
	udp       udpShared
}

// replyBuf is the per-request scratch space, pooled so that an announce allocates little.
type replyBuf struct {
	b     []byte
	peers []Peer
}

// New returns a server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Interval < 0 || cfg.MinInterval < 0 || cfg.ReapEvery < 0 {
		return nil, errors.New("tracker: negative interval in config")
	}
	cfg = withDefaults(cfg)
	s := &Server{cfg: cfg, log: cfg.Logger, store: cfg.Store}
	if s.store == nil {
		s.store = NewMemStore(MemStoreConfig{
			MaxPeersPerSwarm: cfg.MaxPeersPerSwarm, MaxSwarms: max(cfg.MaxSwarms, 0), Rand: cfg.Rand,
		})
	}
	if cfg.RatePerIP > 0 {
		s.limiter = newIPLimiter(cfg.RatePerIP, cfg.RateBurst)
	}
	if cfg.NewSwarmsPerMinute > 0 {
		s.newSwarms = newIPLimiter(rate.Limit(cfg.NewSwarmsPerMinute)/60, cfg.NewSwarmsPerMinute)
	}
	m, err := newMetrics(cfg.Registry, s.store)
	if err != nil {
		return nil, fmt.Errorf("tracker: register metrics: %w", err)
	}
	s.metrics = m
	s.bufs.New = func() any { return &replyBuf{b: make([]byte, 0, 1024), peers: make([]Peer, 0, defaultNumWant)} }
	s.handler = s.routes()
	return s, nil
}

func withDefaults(cfg Config) Config {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Interval == 0 {
		cfg.Interval = 30 * time.Minute
	}
	if cfg.MinInterval == 0 {
		cfg.MinInterval = cfg.Interval / 2
	}
	if cfg.ReapEvery == 0 {
		cfg.ReapEvery = cfg.Interval / 2
	}
	if cfg.RatePerIP == 0 {
		cfg.RatePerIP = DefaultRatePerIP
	}
	if cfg.NewSwarmsPerMinute == 0 {
		cfg.NewSwarmsPerMinute = DefaultNewSwarmsPerMinute
	}
	if cfg.MaxSwarms == 0 {
		cfg.MaxSwarms = DefaultMaxSwarms
	}
	if cfg.RateBurst <= 0 {
		cfg.RateBurst = max(1, int(2*cfg.RatePerIP))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if cfg.Registry == nil {
		// A private registry, with the Go runtime's figures (go_goroutines among them) so
		// that an operator sees leaks, e.g. while a shared store is down.
		cfg.Registry = prometheus.NewRegistry()
		cfg.Registry.MustRegister(collectors.NewGoCollector())
	}
	return cfg
}

// Store returns the server's store, e.g. to inspect it in tests.
func (s *Server) Store() Store { return s.store }

// ServeHTTP serves the tracker routes: /announce, /scrape, /stats, /metrics and /healthz.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Body != http.NoBody { // an announce has none: skip the allocation on the hot path
		r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	}
	s.handler.ServeHTTP(w, r)
}

// Run expires peers silent for two intervals, at once and then every ReapEvery, until ctx is
// done. The first pass gives a shared store's totals (/stats, /metrics) at start.
func (s *Server) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.ReapEvery)
	defer t.Stop()
	s.Reap(ctx, s.cfg.Now())
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			s.Reap(ctx, s.cfg.Now())
		}
	}
}

// Reap expires peers not seen since now minus two intervals, and forgets idle rate limiters.
// It returns how many peers it expired; a store error is logged, and the next Reap tries again.
func (s *Server) Reap(ctx context.Context, now time.Time) int {
	n, err := s.store.Expire(ctx, now.Add(-2*s.cfg.Interval))
	if err != nil {
		s.log.WarnContext(ctx, "expire peers", "err", err)
	}
	for _, l := range []*ipLimiter{s.limiter, s.newSwarms} {
		if l != nil {
			l.sweep(now)
		}
	}
	if s.log.Enabled(ctx, slog.LevelDebug) {
		tot, _ := s.store.Totals(ctx)
		s.log.DebugContext(ctx, "reaped", "expired", n, "swarms", tot.Swarms, "peers", tot.Peers)
	}
	return n
}

// Serve serves HTTP on ln with request timeouts and size limits, and runs the reaper, until
// ctx is done; then it shuts down gracefully (waiting up to 5 s for requests in flight).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel() // runs before wg.Wait: stops the reaper and the shutdown watcher
	wg.Go(func() { _ = s.Run(runCtx) })
	wg.Go(func() {
		<-runCtx.Done()
		sctx, stop := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer stop()
		if err := hs.Shutdown(sctx); err != nil {
			s.log.Warn("tracker shutdown", "err", err)
			_ = hs.Close()
		}
	})
	s.log.Info("tracker listening", "addr", ln.Addr().String(), "config", s.cfg)
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("tracker: serve: %w", err)
	}
	return nil
}
