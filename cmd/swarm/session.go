package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/time/rate"

	"github.com/swarm-bt/swarm/internal/cores"
	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/bitfield"
	"github.com/swarm-bt/swarm/peer/mse"
	"github.com/swarm-bt/swarm/peer/storage"
)

// defaultPort is the first port we try to listen on; the common BitTorrent range.
const defaultPort = 6881

// exit statuses of get and seed, so scripts can tell an interrupted download from a failure.
const (
	exitFailed     = 1
	exitIncomplete = 3
)

// sessionFlags are the flags get and seed share.
type sessionFlags struct {
	dir        string
	port       int
	bind       string
	maxPeers   int
	perIP      int // --max-conns-per-ip
	upRate     string
	downRate   string
	seed       bool
	seedRatio  float64
	seedTime   time.Duration
	onComplete string
	statsFile  string
	peers      []string
	quiet      bool
	fsync      bool // get: make the download durable at 100% and at exit
	encryption string
	// recheckEvery re-checks the content this often (0 = only on SIGHUP).
	recheckEvery time.Duration
	// needContent (seed) refuses a torrent none of whose content is in dir, unless
	// allowMissing (--allow-missing).
	needContent, allowMissing bool
	magnet                    magnetFlags // get: magnet links
	dht                       sessionDHTFlags
	cpus                      int           // --cpus (see internal/cores)
	cores                     *cores.Budget // set by runSessions
}

func (f *sessionFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVarP(&f.dir, "dir", "d", ".", "folder that holds the content (DIR/<name>), like a save path")
	fl.IntVar(&f.port, "port", defaultPort, "port to listen on for peers (0 = any free port; the default falls back to a free one if taken)")
	fl.StringVar(&f.bind, "bind", "", "IP address to listen on, dial from and announce from (default: all addresses)")
	fl.IntVar(&f.maxPeers, "max-peers", 50, "most peers to be connected to at once")
	fl.IntVar(&f.perIP, "max-conns-per-ip", 8, "most incoming connections from one IP address (raise only for tests that run many peers on one address)")
	fl.StringVar(&f.upRate, "up-rate", "0", "upload limit such as 512KiB/s or 2MB/s (0 = unlimited)")
	fl.StringVar(&f.downRate, "down-rate", "0", "download limit such as 512KiB/s or 2MB/s (0 = unlimited)")
	fl.StringVar(&f.onComplete, "on-complete", "", "command to run (through sh -c) when the download reaches 100%")
	fl.StringVar(&f.statsFile, "stats", "", "write a JSON summary (bytes up and down) to this file when the process ends")
	fl.StringSliceVar(&f.peers, "peer", nil, "also connect to this peer address (IP:port); repeatable")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress display")
	fl.DurationVar(&f.recheckEvery, "recheck-every", 0, "re-check the content on disk this often, like SIGHUP does (0 = off)")
	f.registerDHT(cmd)
	registerCPUs(cmd, &f.cpus)
	fl.StringVar(&f.encryption, "encryption", "prefer", "peer encryption (MSE/PE, RC4): prefer (encrypted handshake first, fall back to plain; "+
		"accept both; RC4 on the data only with peers that require it), require (RC4 only), off (plain only)")
}

// session is one torrent being downloaded or seeded by the CLI, in the process's one
// peer.Session (one port for all of them).
type session struct {
	a       *app
	flags   *sessionFlags
	mi      *metainfo.MetaInfo
	st      storage.Storage
	have    bitfield.Bitfield // verified at start
	sw      *peer.Swarm
	display *sessionDisplay
	start   time.Time
	// completedAt is when the download first reached 100% (zero until then).
	completedAt time.Time
	rechecking  bool       // a recheck is running
	stopped     bool       // out of the session: its seed limits are reached, or it failed
	final       peer.Stats // the swarm's last stats, once stopped
	err         error      // what its swarm stopped with, if not cleanly
	peers       peerLedger // what --stats reports per peer
	linkPeers   int        // peers its magnet link gave (x.pe, and those that sent the metadata)
}

// runSessions loads the torrents, checks what is on disk, and runs them all behind one port
// until each is done (get: complete, unless --seed and the seed limits keep it) or ctx is
// cancelled.
func runSessions(ctx context.Context, cmd *cobra.Command, a *app, paths []string, f *sessionFlags) (err error) {
	if err := f.check(); err != nil {
		return err
	}
	f.cores = a.coreBudget(cmd, f.cpus)
	defer f.cores.Restore()
	up, err := parseRate(f.upRate)
	if err != nil {
		return fmt.Errorf("--up-rate: %w", err)
	}
	down, err := parseRate(f.downRate)
	if err != nil {
		return fmt.Errorf("--down-rate: %w", err)
	}
	extra, err := parsePeerAddrs(f.peers)
	if err != nil {
		return err
	}
	enc, err := mse.ParsePolicy(f.encryption)
	if err != nil {
		return fmt.Errorf("--encryption: %w", err)
	}
	if f.dht.svc, err = startDHT(ctx, a, f, anyPublic(paths)); err != nil {
		return err
	}
	defer f.dht.svc.close()
	// The session exists before the torrents: a magnet's metadata is fetched through it
	// (its encryption policy and peer ID); it runs once every torrent is added.
	ln, err := f.listen(a)
	if err != nil {
		return err
	}
	running := false
	defer func() {
		if !running {
			ln.Close()
		}
	}()
	ps, err := peer.NewSession(peer.SessionConfig{
		Listener: ln, UploadLimit: rate.Limit(up), DownloadLimit: rate.Limit(down),
		Dialer: dialer(f.bind), Logger: a.logger, Encryption: enc, MaxConnsPerIP: f.perIP,
		DHTPort: f.dht.svc.port(), OnDHTPort: f.dht.svc.addNode(),
	})
	if err != nil {
		return err
	}
	var magnetPeers map[metainfo.Hash][]netip.AddrPort
	if !f.needContent { // get; seed refuses magnets (checkTorrentArg)
		if paths, magnetPeers, err = resolveMagnets(ctx, a, f, ps, paths, extra); err != nil {
			return err
		}
	}
	ts, err := openSessions(a, paths, f)
	defer func() { err = errors.Join(err, closeSessions(ts)) }()
	if err != nil {
		return err
	}
	for _, t := range ts {
		if t.have, err = t.check(ctx); err != nil {
			return err
		}
		t.linkPeers = len(magnetPeers[t.mi.InfoHash])
	}
	r := &runner{a: a, f: f, ps: ps, ts: ts}
	if err := r.add(); err != nil {
		return err
	}
	running = true
	for _, t := range ts {
		t.sw.AddPeers(extra...)
		t.sw.AddPeersFrom(peer.SourceMagnet, magnetPeers[t.mi.InfoHash]...)
		if !t.mi.Info.Private {
			f.dht.svc.track(ctx, t.sw, t.mi.InfoHash, ps.Port())
		}
	}
	return r.run(ctx)
}

// openSessions loads every torrent and opens its content; the same torrent twice is an
// error (one swarm per info-hash).
func openSessions(a *app, paths []string, f *sessionFlags) ([]*session, error) {
	var mis []*metainfo.MetaInfo
	seen := map[metainfo.Hash]string{}
	for _, path := range paths {
		if err := checkTorrentArg(path); err != nil {
			return nil, err
		}
		mi, err := metainfo.Load(path)
		if err != nil {
			return nil, err
		}
		if other, dup := seen[mi.InfoHash]; dup {
			return nil, fmt.Errorf("%s: the same torrent as %s", path, other)
		}
		seen[mi.InfoHash] = path
		mis = append(mis, mi)
	}
	for _, mi := range mis { // before opening: that makes the folder
		if f.needContent && !f.allowMissing {
			if err := checkContentPresent(mi, f.dir); err != nil {
				return nil, err
			}
		}
	}
	var ts []*session
	for _, mi := range mis {
		st, err := storage.OpenFiles(&mi.Info, f.dir)
		if err != nil {
			return ts, fmt.Errorf("open content in %s: %w", f.dir, err)
		}
		ts = append(ts, &session{a: a, flags: f, mi: mi, st: st, start: time.Now()})
	}
	return ts, nil
}

// closeSessions makes what was written durable if --fsync asks, and closes the content.
func closeSessions(ts []*session) error {
	var errs []error
	for _, t := range ts {
		errs = append(errs, t.sync())
		if err := t.st.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close content: %w", err))
		}
	}
	return errors.Join(errs...)
}

// swarmConfig is the engine's config of the torrent, with its tracker announcer.
func (s *session) swarmConfig() (peer.Config, error) {
	cfg := peer.Config{
		Info: &s.mi.Info, InfoHash: s.mi.InfoHash, InfoBytes: s.mi.InfoBytes, Storage: s.st, Have: s.have,
		MaxPeers: s.flags.maxPeers, Logger: s.a.logger,
	}
	if trackers := s.usableTrackers(); len(trackers) > 0 {
		ann, err := newTrackerAnnouncer(trackers, s.flags.bind, s.a.logger)
		if err != nil {
			return cfg, err
		}
		cfg.Announcer = ann
	}
	return cfg, nil
}

// keepSeeding reports whether the seed limits still allow seeding after completion; st are
// the torrent's stats.
func (s *session) keepSeeding(st peer.Stats) bool {
	f := s.flags
	if f.seed {
		return true
	}
	if f.seedTime > 0 && time.Since(s.completedAt) < f.seedTime {
		return true
	}
	if f.seedRatio > 0 {
		return float64(st.Uploaded) < f.seedRatio*float64(s.mi.Info.TotalLength())
	}
	return false
}

// check verifies what is already on disk, in parallel, so only missing pieces are fetched.
func (s *session) check(ctx context.Context) (have bitfield.Bitfield, err error) {
	start := time.Now()
	bar := newCheckBar(s.a, s.mi.Info.NumPieces(), s.flags.quiet)
	defer s.flags.cores.Checking()()
	have, err = storage.Check(ctx, &s.mi.Info, s.st, runtime.GOMAXPROCS(0), bar.set)
	bar.done()
	if err != nil {
		return have, fmt.Errorf("check content: %w", err)
	}
	s.a.logger.Info("checked content", "name", s.mi.Info.Name, "have", have.Count(), "pieces", s.mi.Info.NumPieces(),
		"elapsed", time.Since(start).Round(time.Millisecond))
	return have, nil
}

// listen opens the peer port. The default port falls back to any free one when taken, since
// users rarely care which port it is; an explicit port that is taken is an error.
func (f *sessionFlags) listen(a *app) (net.Listener, error) {
	addr := net.JoinHostPort(f.bind, strconv.Itoa(f.port))
	ln, err := net.Listen("tcp", addr)
	// Only a taken port falls back: another error (an address not ours for --bind) would
	// fail again, and name port 0 instead of the one asked for.
	if err != nil && f.port == defaultPort && errors.Is(err, syscall.EADDRINUSE) {
		a.logger.Info("default port taken, using a free one", "err", err)
		ln, err = net.Listen("tcp", net.JoinHostPort(f.bind, "0"))
	}
	if err != nil {
		return nil, fmt.Errorf("listen for peers: %w", err)
	}
	return ln, nil
}

// dialer dials peers from the bind address, so that peers and trackers see one address.
func dialer(bind string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 10 * time.Second}
	if bind != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(bind)}
	}
	return d.DialContext
}

func parsePeerAddrs(in []string) ([]netip.AddrPort, error) {
	out := make([]netip.AddrPort, 0, len(in))
	for _, s := range in {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return nil, fmt.Errorf("--peer %q: want IP:port: %w", s, err)
		}
		out = append(out, ap)
	}
	return out, nil
}

// newTrackerAnnouncer announces to the torrent's tiers from the bind address, so the tracker
// records the address that our listener and dials use.
func newTrackerAnnouncer(tiers [][]string, bind string, logger *slog.Logger) (peer.Announcer, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if bind != "" {
		d := &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(bind)}}
		tr.DialContext = d.DialContext
	}
	udpBind, _ := netip.ParseAddr(bind) // "" (any address) leaves it invalid
	return newAnnouncer(tiers, logger, nil, &http.Client{Transport: tr, Timeout: 30 * time.Second}, udpBind)
}
