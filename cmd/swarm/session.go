package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/time/rate"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/bitfield"
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
	// recheckEvery re-checks the content this often (0 = only on SIGHUP).
	recheckEvery time.Duration
}

func (f *sessionFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVarP(&f.dir, "dir", "d", ".", "folder that holds the content (DIR/<name>), like a save path")
	fl.IntVar(&f.port, "port", defaultPort, "port to listen on for peers (0 = any free port; the default falls back to a free one if taken)")
	fl.StringVar(&f.bind, "bind", "", "IP address to listen on, dial from and announce from (default: all addresses)")
	fl.IntVar(&f.maxPeers, "max-peers", 50, "most peers to be connected to at once")
	fl.StringVar(&f.upRate, "up-rate", "0", "upload limit such as 512KiB/s or 2MB/s (0 = unlimited)")
	fl.StringVar(&f.downRate, "down-rate", "0", "download limit such as 512KiB/s or 2MB/s (0 = unlimited)")
	fl.StringVar(&f.onComplete, "on-complete", "", "command to run (through sh -c) when the download reaches 100%")
	fl.StringVar(&f.statsFile, "stats", "", "write a JSON summary (bytes up and down) to this file when the process ends")
	fl.StringSliceVar(&f.peers, "peer", nil, "also connect to this peer address (IP:port); repeatable")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "no progress display")
	fl.DurationVar(&f.recheckEvery, "recheck-every", 0, "re-check the content on disk this often, like SIGHUP does (0 = off)")
}

// session is one torrent being downloaded or seeded by the CLI.
type session struct {
	a     *app
	flags *sessionFlags
	mi    *metainfo.MetaInfo
	st    storage.Storage
	sw    *peer.Swarm
	start time.Time
	// completedAt is when the download first reached 100% (zero until then).
	completedAt time.Time
	// before adds up the traffic of the swarms that a recheck replaced.
	before peer.Stats
	// recheck delivers the user's requests to re-check the content (nil = never).
	rechecks <-chan os.Signal
}

// errRecheck tells run that the user asked for a recheck: the swarm was stopped for it.
var errRecheck = errors.New("swarm: recheck requested")

// runSession loads the torrent, checks what is on disk, and runs the swarm until it is done
// (get without --seed), the seed limits are reached, or ctx is cancelled.
func runSession(ctx context.Context, a *app, torrentPath string, f *sessionFlags) error {
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
	mi, err := metainfo.Load(torrentPath)
	if err != nil {
		return err
	}
	st, err := storage.OpenFiles(&mi.Info, f.dir)
	if err != nil {
		return fmt.Errorf("open content in %s: %w", f.dir, err)
	}
	s := &session{a: a, flags: f, mi: mi, st: st, start: time.Now()}
	if a.recheck != nil {
		s.rechecks = a.recheck()
	}
	err = s.run(ctx, up, down, extra)
	if s.st != nil {
		if serr := s.sync(); serr != nil && err == nil {
			err = serr
		}
		if cerr := s.st.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close content: %w", cerr)
		}
	}
	return err
}

// run checks the content and runs swarms on it: one, or a new one after each recheck.
func (s *session) run(ctx context.Context, up, down int64, extra []netip.AddrPort) error {
	have, err := s.check(ctx)
	if err != nil {
		return err
	}
	ln, err := s.listen()
	if err != nil {
		return err
	}
	cfg := peer.Config{
		Info:            &s.mi.Info,
		InfoHash:        s.mi.InfoHash,
		MaxPeers:        s.flags.maxPeers,
		UploadLimiter:   limiterOrNil(up),
		DownloadLimiter: limiterOrNil(down),
		Logger:          s.a.logger,
		Dialer:          s.dialer(),
	}
	if trackers := s.mi.Trackers(); len(trackers) > 0 {
		cfg.Announcer, err = newTrackerAnnouncer(trackers, s.flags.bind, s.a.logger)
		if err != nil {
			ln.Close()
			return err
		}
	}
	for {
		cfg.Storage, cfg.Have, cfg.Listener = s.st, have, ln
		err := s.runSwarm(ctx, cfg, extra)
		ln.Close() // Run closed it already, unless New failed
		if !errors.Is(err, errRecheck) {
			return err
		}
		if ln, have, err = s.recheck(ctx, ln); err != nil {
			return err
		}
	}
}

func (s *session) runSwarm(ctx context.Context, cfg peer.Config, extra []netip.AddrPort) error {
	sw, err := peer.New(cfg)
	if err != nil {
		return err
	}
	s.sw = sw
	return s.supervise(ctx, extra)
}

// recheck reopens the content (file sizes are read at open), checks it again and listens
// again on the port the stopped swarm had, so that peers and the tracker still find us.
func (s *session) recheck(ctx context.Context, old net.Listener) (net.Listener, bitfield.Bitfield, error) {
	s.before = s.totals(s.sw.Stats())
	// The new storage will not know what this one wrote: sync it now if --fsync asks.
	err := errors.Join(s.sync(), s.st.Close())
	s.st = nil
	if err != nil {
		return nil, bitfield.Bitfield{}, fmt.Errorf("recheck: close content: %w", err)
	}
	if s.st, err = storage.OpenFiles(&s.mi.Info, s.flags.dir); err != nil {
		return nil, bitfield.Bitfield{}, fmt.Errorf("recheck: open content in %s: %w", s.flags.dir, err)
	}
	have, err := s.check(ctx)
	if err != nil {
		return nil, bitfield.Bitfield{}, err
	}
	n := s.mi.Info.NumPieces()
	fmt.Fprintf(s.a.stdout, "recheck: %d of %d pieces good; %d will be downloaded again\n", have.Count(), n, n-have.Count())
	port := 0
	if a, ok := old.Addr().(*net.TCPAddr); ok {
		port = a.Port
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(s.flags.bind, strconv.Itoa(port)))
	if err != nil {
		return nil, bitfield.Bitfield{}, fmt.Errorf("recheck: listen for peers again: %w", err)
	}
	return ln, have, nil
}

// supervise runs the swarm and decides when to stop it. extra are peers from --peer, added
// once the loop runs (AddPeers talks to it). It returns errRecheck when it stopped the swarm
// for a recheck (SIGHUP, or --recheck-every).
func (s *session) supervise(ctx context.Context, extra []netip.AddrPort) error {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var runErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		runErr = s.sw.Run(runCtx)
		cancel()
	})
	if len(extra) > 0 {
		s.sw.AddPeers(extra...)
	}
	display := newSessionDisplay(s.a, s.mi, s.flags.quiet)
	completed := s.sw.Completed()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	var every <-chan time.Time
	if s.flags.recheckEvery > 0 {
		t := time.NewTimer(s.flags.recheckEvery)
		defer t.Stop()
		every = t.C
	}
	recheck := false
	for stop := false; !stop; {
		select {
		case <-runCtx.Done():
			stop = true
		case <-s.rechecks:
			recheck = true
			cancel()
		case <-every:
			recheck = true
			cancel()
		case <-completed:
			completed = nil
			if s.completedAt.IsZero() {
				s.completedAt = time.Now()
				s.onComplete(ctx)
			}
			if !s.keepSeeding(s.totals(s.sw.Stats())) {
				cancel()
			}
		case <-tick.C:
			st := s.sw.Stats()
			display.update(st)
			if !s.completedAt.IsZero() && !s.keepSeeding(s.totals(st)) {
				cancel()
			}
		}
	}
	wg.Wait()
	if recheck && ctx.Err() == nil && (runErr == nil || errors.Is(runErr, context.Canceled)) {
		display.clear()
		return errRecheck
	}
	final := s.totals(s.sw.Stats())
	display.finish(final)
	if err := s.writeStats(final); err != nil {
		return err
	}
	return s.exitStatus(runErr, final)
}

// totals adds the traffic of the swarms that rechecks stopped to the running one's stats.
func (s *session) totals(st peer.Stats) peer.Stats {
	st.Downloaded += s.before.Downloaded
	st.Uploaded += s.before.Uploaded
	st.Wasted += s.before.Wasted
	st.FailedPieces += s.before.FailedPieces
	return st
}

// keepSeeding reports whether the seed limits still allow seeding after completion; st are
// the session's totals.
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

func (s *session) exitStatus(runErr error, st peer.Stats) error {
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		return &exitError{code: exitFailed, err: runErr}
	}
	if st.Left > 0 {
		return &exitError{code: exitIncomplete, err: fmt.Errorf("stopped before completion: %d of %d pieces verified", st.Have, st.NumPieces)}
	}
	return nil
}

// check verifies what is already on disk, in parallel, so only missing pieces are fetched.
func (s *session) check(ctx context.Context) (have bitfield.Bitfield, err error) {
	start := time.Now()
	bar := newCheckBar(s.a, s.mi.Info.NumPieces(), s.flags.quiet)
	have, err = storage.Check(ctx, &s.mi.Info, s.st, runtime.GOMAXPROCS(0), bar.set)
	bar.done()
	if err != nil {
		return have, fmt.Errorf("check content: %w", err)
	}
	s.a.logger.Info("checked content", "have", have.Count(), "pieces", s.mi.Info.NumPieces(),
		"elapsed", time.Since(start).Round(time.Millisecond))
	return have, nil
}

// listen opens the peer port. The default port falls back to any free one when taken, since
// users rarely care which port it is; an explicit port that is taken is an error.
func (s *session) listen() (net.Listener, error) {
	addr := net.JoinHostPort(s.flags.bind, strconv.Itoa(s.flags.port))
	ln, err := net.Listen("tcp", addr)
	if err != nil && s.flags.port == defaultPort {
		s.a.logger.Info("default port taken, using a free one", "err", err)
		ln, err = net.Listen("tcp", net.JoinHostPort(s.flags.bind, "0"))
	}
	if err != nil {
		return nil, fmt.Errorf("listen for peers: %w", err)
	}
	return ln, nil
}

// dialer dials peers from the bind address, so that peers and trackers see one address.
func (s *session) dialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 10 * time.Second}
	if s.flags.bind != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(s.flags.bind)}
	}
	return d.DialContext
}

// limiterOrNil returns nil (unlimited) for 0, else a limiter with the engine's burst.
func limiterOrNil(bytesPerSec int64) *rate.Limiter {
	if bytesPerSec <= 0 {
		return nil
	}
	return peer.NewLimiter(rate.Limit(bytesPerSec))
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
