package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/swarm-bt/swarm/daemon"
	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/mse"
	"github.com/swarm-bt/swarm/web"
)

// daemonFlags are swarm daemon's flags.
type daemonFlags struct {
	data, listen, bind, downloadDir, watch string
	port, maxPeers, maxActive, cpus        int
	allowDirs, allowHosts, dhtBootstrap    []string
	noDHT                                  bool
	upRate, downRate, encryption           string
	seedRatio                              float64
	seedTime, saveEvery                    time.Duration
}

// defaultDataDir is where the daemon keeps its state unless --data says otherwise; ctl looks
// for the token there too.
func defaultDataDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ".swarm"
	}
	return filepath.Join(home, ".local", "share", "swarm")
}

func newDaemonCmd(a *app) *cobra.Command {
	f := &daemonFlags{}
	cmd := &cobra.Command{
		Use:   "daemon [--data DIR] [--listen 127.0.0.1:9091] [--port 6881]",
		Short: "Run many torrents in one process, driven by a JSON API, swarm ctl and a live web page",
		Long: `Run many torrents in one process on one peer port. The state lives in DIR (--data):
which torrents, where their data is, paused or not, totals; a restart brings everything back
after a resume check. The JSON API (docs/api.md), swarm ctl and the web page are served on
--listen, 127.0.0.1 only by default.

On first start a random token is written to DIR/token (mode 0600): the API wants it as
"Authorization: Bearer TOKEN", and the login URL printed at start logs a browser in.
Save folders must lie in the download folder or an --allow-dir root.`,
		Example: `  swarm daemon --data ~/.local/share/swarm
  swarm daemon --data /srv/swarm --allow-dir /srv/media --watch /srv/drop --max-active 3
  swarm daemon --listen 0.0.0.0:9091 --allow-host nas.local   # reachable from the LAN`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDaemon(cmd.Context(), a, cmd, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.data, "data", defaultDataDir(), "folder for the daemon's state and token")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:9091", "address of the API and web page")
	fl.IntVar(&f.port, "port", defaultPort, "peer port (0 = any free port)")
	fl.StringVar(&f.bind, "bind", "", "IP address for peer connections (default: all)")
	fl.StringVar(&f.downloadDir, "download-dir", "", "default save folder (default DATA/downloads); always allowed")
	fl.StringArrayVar(&f.allowDirs, "allow-dir", nil, "also allow save folders under this root; repeatable")
	fl.StringArrayVar(&f.allowHosts, "allow-host", nil, "also serve requests for this host name (Host header); repeatable")
	fl.StringVar(&f.watch, "watch", "", "add every .torrent dropped in this folder")
	fl.BoolVar(&f.noDHT, "no-dht", false, "run no DHT node (magnet links then need trackers or x.pe peers)")
	fl.StringSliceVar(&f.dhtBootstrap, "dht-bootstrap", defaultDHTRouters, "DHT nodes to start from when the saved table (DATA/dht.dat) is empty")
	fl.StringVar(&f.encryption, "encryption", "prefer", "peer encryption (MSE/PE, RC4): prefer, require or off")
	fl.IntVar(&f.maxPeers, "max-peers", 50, "most peers per torrent")
	fl.IntVar(&f.maxActive, "max-active", 0, "most torrents downloading at once, the rest queued (0 = no limit)")
	fl.StringVar(&f.upRate, "up-rate", "0", "global upload limit such as 2MB/s (0 = unlimited)")
	fl.StringVar(&f.downRate, "down-rate", "0", "global download limit (0 = unlimited)")
	fl.Float64Var(&f.seedRatio, "seed-ratio", 0, "stop seeding a torrent at this upload ratio (0 = no limit)")
	fl.DurationVar(&f.seedTime, "seed-time", 0, "stop seeding a torrent after this long complete (0 = no limit)")
	registerCPUs(cmd, &f.cpus)
	fl.DurationVar(&f.saveEvery, "save-every", 30*time.Second, "save the running totals this often (a crash loses at most this much of them)")
	return cmd
}

func runDaemon(ctx context.Context, a *app, cmd *cobra.Command, f *daemonFlags) error {
	if err := os.MkdirAll(f.data, 0o700); err != nil {
		return fmt.Errorf("--data: %w", err)
	}
	token, err := web.LoadToken(filepath.Join(f.data, "token"))
	if err != nil {
		return err
	}
	if f.saveEvery <= 0 {
		return fmt.Errorf("--save-every %v: must be positive, such as 30s", f.saveEvery)
	}
	enc, err := mse.ParsePolicy(f.encryption)
	if err != nil {
		return fmt.Errorf("--encryption: %w", err)
	}
	budget := a.coreBudget(cmd, f.cpus)
	defer budget.Restore()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	dcfg := daemon.Config{
		Dir: f.data, DownloadDir: f.downloadDir, AllowDirs: f.allowDirs, Bind: f.bind, Port: f.port,
		Watch: f.watch, Encryption: enc, Registerer: reg, Logger: a.logger, MaxPeers: f.maxPeers,
		SaveEvery: f.saveEvery, Checking: budget.Checking,
		NewAnnouncer: func(tiers [][]string) (peer.Announcer, error) {
			return newTrackerAnnouncer(tiers, f.bind, a.logger)
		},
	}
	d, dd, err := newDaemonWithDHT(ctx, a, cmd, f, dcfg)
	if err != nil {
		return err
	}
	defer dd.close(a) // after the daemon has stopped its node
	if err := applySettingFlags(d, cmd, f); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	srv, err := web.New(web.Config{Daemon: d, Token: token, Addr: ln.Addr().String(), AllowHosts: f.allowHosts, Gatherer: reg, Logger: a.logger})
	if err != nil {
		ln.Close()
		return err
	}
	if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		fmt.Fprintf(a.stderr, "warning: the API listens on %s, beyond this machine: anyone with the token controls the daemon\n", ln.Addr())
	}
	dhtState := "off"
	if dd != nil {
		dhtState = "udp " + dd.conn.LocalAddr().String()
	}
	fmt.Fprintf(a.stdout, "swarm daemon: peers on %s, DHT %s, state in %s\nweb page (log in once): %s\n", d.PeerAddr(), dhtState, f.data, srv.LoginURL())
	return serveDaemon(ctx, d, srv, ln)
}

// applySettingFlags overrides the saved settings with the flags given on the command line.
func applySettingFlags(d *daemon.Daemon, cmd *cobra.Command, f *daemonFlags) error {
	s := d.Settings()
	fl := cmd.Flags()
	for _, r := range []struct {
		flag, val string
		dst       *int64
	}{{"up-rate", f.upRate, &s.UpRate}, {"down-rate", f.downRate, &s.DownRate}} {
		if fl.Changed(r.flag) {
			n, err := parseRate(r.val)
			if err != nil {
				return fmt.Errorf("--%s: %w", r.flag, err)
			}
			*r.dst = n
		}
	}
	if fl.Changed("max-active") {
		s.MaxActiveDownloads = f.maxActive
	}
	if fl.Changed("seed-ratio") {
		s.SeedRatio = f.seedRatio
	}
	if fl.Changed("seed-time") {
		s.SeedTime = daemon.Duration(f.seedTime)
	}
	return d.SetSettings(s)
}

// serveDaemon runs the daemon and its HTTP server until ctx ends, then stops both: open event
// streams end with the server's base context.
func serveDaemon(ctx context.Context, d *daemon.Daemon, srv *web.Server, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	var wg sync.WaitGroup
	var derr, herr error
	wg.Go(func() {
		derr = d.Run(ctx)
		cancel()
	})
	wg.Go(func() {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			herr = fmt.Errorf("web server: %w", err)
		}
		cancel()
	})
	<-ctx.Done()
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	_ = hs.Shutdown(sctx)
	wg.Wait()
	return errors.Join(derr, herr)
}
