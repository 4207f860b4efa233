package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/time/rate"

	"github.com/swarm-bt/swarm/tracker"
	"github.com/swarm-bt/swarm/tracker/redisstore"
)

// trackerFlags are the options of `swarm tracker`.
type trackerFlags struct {
	listen           string
	interval         time.Duration
	minInterval      time.Duration
	allow            string
	fullScrape       bool
	trustProxy       bool
	maxPeersPerSwarm int
	maxSwarms        int
	rate             float64
	burst            int
	newSwarms        int
	udp              string
	udpSockets       int
	store            string
}

func newTrackerCmd(a *app) *cobra.Command {
	var f trackerFlags
	cmd := &cobra.Command{
		Use:   "tracker",
		Short: "Run an HTTP and UDP BitTorrent tracker (announce, scrape, stats, metrics)",
		Long: `Run a tracker. Clients announce to http://LISTEN/announce and scrape
http://LISTEN/scrape; /stats shows the swarms (?format=json for JSON), /metrics serves
Prometheus metrics and /healthz answers "ok". The same swarms are served over UDP (BEP 15)
at udp://LISTEN/announce, or at --udp ADDR; --udp off turns UDP off. A wildcard UDP address
is bound once per interface address so that replies leave from the address asked. It stops
gracefully on SIGINT or SIGTERM.`,
		Example: `  swarm tracker --listen 127.0.0.1:6969
  swarm tracker --listen :6969 --udp off
  swarm tracker --listen 127.0.0.1:6969 --udp 127.0.0.1:6970 --udp-sockets 2
  swarm tracker --listen :6969 --interval 10m --allow torrents/ --rate 2
  swarm tracker --allow whitelist.txt --full-scrape --max-swarms 100000
  swarm tracker --listen 10.0.0.2:6969 --store redis://10.0.0.9:6379/0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runTracker(cmd, a, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:6969", "address to listen on")
	fl.DurationVar(&f.interval, "interval", 30*time.Minute, "announce interval told to clients; peers expire after two")
	fl.DurationVar(&f.minInterval, "min-interval", 0, "min interval told to clients (default interval/2)")
	fl.StringVar(&f.allow, "allow", "", "serve only these info-hashes: a file of hex hashes or a folder of .torrent files")
	fl.BoolVar(&f.fullScrape, "full-scrape", false, "answer a scrape without info_hash with every swarm")
	fl.BoolVar(&f.trustProxy, "trust-proxy", false, "take the peer address from X-Forwarded-For (behind a reverse proxy only)")
	fl.IntVar(&f.maxPeersPerSwarm, "max-peers-per-swarm", 0, "cap on stored peers per swarm (0 = none)")
	fl.IntVar(&f.maxSwarms, "max-swarms", tracker.DefaultMaxSwarms, "cap on the number of swarms (0 = none)")
	fl.Float64Var(&f.rate, "rate", float64(tracker.DefaultRatePerIP), "announces and scrapes per second allowed per IP address (0 = unlimited)")
	fl.IntVar(&f.burst, "rate-burst", 0, "burst of the per-IP limit (default 2x rate, at least 1)")
	fl.StringVar(&f.store, "store", "memory", "where swarms live: memory, redis://HOST:PORT/DB or redis-cluster://HOST:PORT,HOST:PORT,...")
	fl.IntVar(&f.newSwarms, "new-swarms-per-minute", tracker.DefaultNewSwarmsPerMinute, "new swarms one IP address may start per minute (0 = unlimited)")
	fl.StringVar(&f.udp, "udp", "", `UDP (BEP 15) address (default: the --listen address; "off" to disable)`)
	fl.IntVar(&f.udpSockets, "udp-sockets", 0, "UDP sockets per address, sharing it with SO_REUSEPORT (Linux); 0 = one per CPU the process may use")
	return cmd
}

func runTracker(cmd *cobra.Command, a *app, f trackerFlags) error {
	// Replies carry whole seconds, so anything under a second would tell clients "0".
	if f.interval < time.Second || f.minInterval < 0 || f.rate < 0 || f.maxPeersPerSwarm < 0 || f.maxSwarms < 0 || f.newSwarms < 0 {
		return errors.New("tracker: --interval must be at least 1s; limits must not be negative")
	}
	if f.udpSockets < 0 || f.udpSockets > 64 {
		return errors.New("tracker: --udp-sockets must be 0 (one per CPU) to 64")
	}
	if f.udpSockets == 0 {
		// Each socket has its own goroutine and the kernel spreads clients over them: on two
		// cores two sockets answered 20 to 28% more than one (docs/benchmarks.md).
		f.udpSockets = min(runtime.GOMAXPROCS(0), 64)
	}
	cfg := tracker.Config{
		Logger: a.logger, Interval: f.interval, MinInterval: f.minInterval,
		FullScrape: f.fullScrape, TrustProxy: f.trustProxy,
		MaxPeersPerSwarm: f.maxPeersPerSwarm, MaxSwarms: zeroIsOff(f.maxSwarms),
		RatePerIP: rate.Limit(zeroIsOff(f.rate)), RateBurst: f.burst,
		NewSwarmsPerMinute: zeroIsOff(f.newSwarms),
	}
	if f.allow != "" {
		list, err := tracker.LoadAllowList(f.allow)
		if err != nil {
			return fmt.Errorf("tracker: %w", err)
		}
		cfg.Allow = list.Contains
		a.logger.Info("allow list loaded", "path", f.allow, "torrents", len(list))
	}
	if f.store != "memory" {
		st, err := redisstore.New(redisstore.Config{
			URL: f.store, PeerTTL: 2 * f.interval, MaxPeersPerSwarm: f.maxPeersPerSwarm,
			MaxSwarms: f.maxSwarms, Logger: a.logger.With("store", "redis"),
		})
		if err != nil {
			return fmt.Errorf("tracker: --store: %w", err)
		}
		defer st.Close()
		cfg.Store = st
	}
	srv, err := tracker.New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("tracker: %w", err)
	}
	conns, err := listenTrackerUDP(cmd, f, ln.Addr().String())
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("tracker: %w", err)
	}
	fmt.Fprintf(a.stdout, "tracker listening on http://%s/announce\n", ln.Addr())
	if len(conns) > 0 {
		fmt.Fprintf(a.stdout, "tracker listening on udp://%s/announce\n", conns[0].LocalAddr())
	}
	return serveTracker(cmd.Context(), srv, ln, conns)
}

// listenTrackerUDP opens the UDP sockets: --udp, or by default the HTTP listener's address.
// When --listen asked for any port (":0"), the UDP port of the number TCP got may be taken;
// then UDP gets a port of its own, printed like the HTTP one.
func listenTrackerUDP(cmd *cobra.Command, f trackerFlags, httpAddr string) ([]*net.UDPConn, error) {
	switch f.udp {
	case "off":
		return nil, nil
	case "":
		conns, err := tracker.ListenUDP(cmd.Context(), httpAddr, f.udpSockets)
		if _, port, _ := net.SplitHostPort(f.listen); port == "0" && errors.Is(err, syscall.EADDRINUSE) {
			host, _, _ := net.SplitHostPort(httpAddr)
			return tracker.ListenUDP(cmd.Context(), net.JoinHostPort(host, "0"), f.udpSockets)
		}
		return conns, err
	}
	return tracker.ListenUDP(cmd.Context(), f.udp, f.udpSockets)
}

// serveTracker runs the HTTP and UDP sides until ctx is done or one of them fails, which
// stops the other.
func serveTracker(ctx context.Context, srv *tracker.Server, ln net.Listener, conns []*net.UDPConn) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var udpErr error
	if len(conns) > 0 {
		wg.Go(func() {
			defer cancel()
			udpErr = srv.ServeUDP(ctx, conns...)
		})
	}
	httpErr := srv.Serve(ctx, ln)
	cancel()
	wg.Wait()
	return errors.Join(httpErr, udpErr)
}

// zeroIsOff maps the CLI's "0 = no limit" onto tracker.Config's "negative = no limit" (its
// zero means the default).
func zeroIsOff[T int | float64](v T) T {
	if v == 0 {
		return -1
	}
	return v
}
