package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/swarm-bt/swarm/dht"
)

// defaultDHTRouters are the well-known public bootstrap nodes that get and seed use unless
// told otherwise. No test may use them: tests pass --dht-bootstrap with loopback nodes, or
// --no-dht.
var defaultDHTRouters = []string{
	"router.bittorrent.com:6881", "dht.transmissionbt.com:6881",
	"router.utorrent.com:6881", "dht.libtorrent.org:25401",
}

// dhtFlags are the options of `swarm dht`.
type dhtFlags struct {
	listen    string
	bootstrap []string
	state     string
	every     time.Duration
	readOnly  bool
	publicIP  string
}

func newDHTCmd(a *app) *cobra.Command {
	var f dhtFlags
	cmd := &cobra.Command{
		Use:   "dht",
		Short: "Run a standalone DHT node (BEP 5), e.g. the bootstrap node of a private network",
		Long: `Run a Mainline DHT node on a UDP address. It answers ping, find_node, get_peers and
announce_peer, keeps a routing table (saved to --state on exit and loaded at start, so a
restart needs no bootstrap) and prints, every --every, the nodes in its table, the queries
per second it served and the peers stored. With no --bootstrap it waits for others to find
it: the first node of a private network. It stops on SIGINT or SIGTERM.`,
		Example: `  swarm dht --listen 127.0.0.1:6881
  swarm dht --listen 0.0.0.0:6881 --bootstrap 10.0.0.2:6881,10.0.0.3:6881 --state dht.dat`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDHT(cmd.Context(), a, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:6881", "UDP address to listen on")
	fl.StringSliceVar(&f.bootstrap, "bootstrap", nil, "nodes to join through, HOST:PORT[,...] (default: none)")
	fl.StringVar(&f.state, "state", "", "file to load the routing table from and save it to")
	fl.DurationVar(&f.every, "every", 10*time.Second, "how often to print the node's figures (0 = never)")
	fl.BoolVar(&f.readOnly, "read-only", false, "BEP 43 read-only: query others, answer nobody")
	fl.StringVar(&f.publicIP, "public-ip", "", "our address as the internet sees it: a new node id is then a BEP 42 one")
	return cmd
}

func runDHT(ctx context.Context, a *app, f dhtFlags) error {
	if f.every < 0 {
		return errors.New("dht: --every must not be negative")
	}
	var public netip.Addr
	if f.publicIP != "" {
		ip, err := netip.ParseAddr(f.publicIP)
		if err != nil {
			return fmt.Errorf("dht: --public-ip %q: want an IP address", f.publicIP)
		}
		public = ip.Unmap()
	}
	boot, err := resolveNodes(ctx, f.bootstrap, a.logger)
	if err != nil {
		return fmt.Errorf("dht: %w", err)
	}
	conn, err := net.ListenPacket("udp", f.listen)
	if err != nil {
		return fmt.Errorf("dht: %w", err)
	}
	defer conn.Close()
	cfg := dht.Config{Conn: conn, Bootstrap: boot, ReadOnly: f.readOnly, Logger: a.logger, PublicIP: public}
	loadDHTState(f.state, &cfg, a.logger)
	node, err := dht.New(cfg)
	if err != nil {
		return fmt.Errorf("dht: %w", err)
	}
	fmt.Fprintf(a.stdout, "dht node %s listening on udp://%s\n", node.ID(), conn.LocalAddr())
	done := make(chan error, 1)
	go func() { done <- node.Run(ctx) }()
	if f.every > 0 {
		printDHTStats(ctx, a.stdout, node, f.every)
	}
	err = <-done
	saveDHTState(f.state, node, a.logger)
	return err
}

// printDHTStats prints the node's figures every period until ctx ends.
func printDHTStats(ctx context.Context, w io.Writer, node *dht.Node, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	last, lastAt := node.Stats(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s := node.Stats()
			qps := float64(s.QueriesIn-last.QueriesIn) / now.Sub(lastAt).Seconds()
			fmt.Fprintf(w, "nodes %d (good %d) queries/s %.1f stored peers %d in %d torrents\n",
				s.Nodes, s.Good, qps, s.Peers, s.InfoHashes)
			last, lastAt = s, now
		}
	}
}

// resolveNodes turns HOST:PORT strings into addresses, resolving names at once (so a slow
// resolver costs one timeout, not one per router). A name that does not resolve is logged and
// skipped, so one dead router does not stop the others; an address that cannot be parsed at
// all is an error.
func resolveNodes(ctx context.Context, list []string, logger *slog.Logger) ([]netip.AddrPort, error) {
	type job struct {
		s, host string
		port    uint16
	}
	var jobs []job
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		host, portStr, err := net.SplitHostPort(s)
		if err != nil {
			return nil, fmt.Errorf("bootstrap node %q: %w", s, err)
		}
		port, err := strconv.ParseUint(portStr, 10, 16)
		if err != nil || port == 0 {
			return nil, fmt.Errorf("bootstrap node %q: bad port", s)
		}
		jobs = append(jobs, job{s, host, uint16(port)})
	}
	out := make([]netip.AddrPort, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		if ip, err := netip.ParseAddr(j.host); err == nil {
			out[i] = netip.AddrPortFrom(ip.Unmap(), j.port)
			continue
		}
		wg.Go(func() {
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			ips, err := net.DefaultResolver.LookupNetIP(rctx, "ip", j.host)
			if err != nil || len(ips) == 0 {
				logger.Warn("dht bootstrap node does not resolve", "node", j.s, "err", err)
				return
			}
			out[i] = netip.AddrPortFrom(ips[0].Unmap(), j.port)
		})
	}
	wg.Wait()
	return slices.DeleteFunc(out, func(ap netip.AddrPort) bool { return !ap.IsValid() }), nil
}

// loadDHTState puts a saved id and table into cfg; a missing file is the normal first run.
func loadDHTState(path string, cfg *dht.Config, logger *slog.Logger) {
	if path == "" {
		return
	}
	st, err := dht.LoadState(path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			logger.Warn("dht state not loaded", "path", path, "err", err)
		}
		return
	}
	cfg.ID, cfg.Nodes = st.ID, st.Nodes
}

func saveDHTState(path string, node *dht.Node, logger *slog.Logger) {
	if path == "" {
		return
	}
	if err := dht.SaveState(path, node.State()); err != nil {
		logger.Warn("dht state not saved", "path", path, "err", err)
	}
}
