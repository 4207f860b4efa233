// Package daemon runs many torrents in one process: a registry of torrents over the peer
// engine, their state kept on disk (written atomically, so a crash loses nothing verified),
// a queue of active downloads, rate and seed limits that change at run time, a watch folder
// and Prometheus metrics. It knows nothing about HTTP: package web serves it.
//
// Concurrency: one mutex guards the registry (the map of torrents and their bookkeeping); it
// is never held across engine calls, disk checks or file writes. Engine state stays in each
// torrent's peer.Swarm loop and is read through its snapshot methods. Run's loop is the only
// place that starts and stops swarms and checks, so that every goroutine has an owner that
// waits for it.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/swarm-bt/swarm/dht"
	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/mse"
)

// Config configures a Daemon. Zero fields take the defaults in the comments.
type Config struct {
	// Dir holds the daemon's state (state.json, torrents/). Required.
	Dir string
	// DownloadDir is the save folder used when an add names none; default Dir/downloads. It
	// is always an allowed root.
	DownloadDir string
	// AllowDirs are further roots that save folders may lie in.
	AllowDirs []string
	// Bind is the IP address to listen on and dial from for peers; "" means all.
	Bind string
	// Port is the peer port; 0 means any free port.
	Port int
	// Encryption is the MSE policy of peer connections (peer/mse); the zero value is Off.
	Encryption mse.Policy
	// DHT, when set, is a running-to-be DHT node on the peer port's UDP socket: Run runs
	// it, public torrents announce to it and find peers through it (BEP 5), and magnet links
	// without trackers can be fetched. nil means no DHT.
	DHT *dht.Node
	// Watch is a folder whose new .torrent files are added (then renamed *.added); "" = none.
	Watch string
	// Settings, when non-nil, replace the saved settings at start.
	Settings *Settings
	// NewAnnouncer builds the peer source for a torrent's tracker tiers; nil means none.
	NewAnnouncer func(tiers [][]string) (peer.Announcer, error)
	// Registerer receives the daemon's metrics; nil means none.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// MaxPeers bounds each torrent's peers; default 50.
	MaxPeers int
	// Timeouts are passed to every swarm (tests shorten them).
	Timeouts peer.Timeouts
	// Tick paces stats refresh, seed limits and events; default 1 s.
	Tick time.Duration
	// SaveEvery bounds how stale the saved totals can get; default 30 s.
	SaveEvery time.Duration
	// Checks bounds the resume checks running at once; default 2.
	Checks int
	// Checking, when set, is called as each content check starts and its result when it
	// ends: the CLI gives checks every core while the engine runs on fewer (internal/cores).
	Checking func() (done func())
}

// Daemon is the registry of torrents. Create it with New and start it with Run; the other
// methods are safe for concurrent use, before and during Run.
type Daemon struct {
	cfg  Config
	log  *slog.Logger
	dirs allowedDirs
	subs broadcaster
	sess *peer.Session
	wake chan struct{}
	wg   sync.WaitGroup

	saveMu sync.Mutex // orders state writes

	mu       sync.Mutex
	torrents map[metainfo.Hash]*torrent
	order    []*torrent // queue order: oldest first
	settings Settings
	dirty    bool // records changed since the last save
	closed   bool
	checks   int // resume checks running
}

// New loads the state in cfg.Dir and returns a Daemon ready to Run.
func New(cfg Config) (*Daemon, error) {
	if cfg.Dir == "" {
		return nil, fmt.Errorf("%w: no state folder", ErrBadInput)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.DownloadDir == "" {
		cfg.DownloadDir = filepath.Join(cfg.Dir, "downloads")
	}
	cfg.Tick = orDefault(cfg.Tick, time.Second)
	cfg.SaveEvery = orDefault(cfg.SaveEvery, 30*time.Second)
	cfg.Checks = orDefault(cfg.Checks, 2)
	for _, dir := range []string{cfg.Dir, cfg.DownloadDir} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("daemon: %w", err)
		}
	}
	dirs, err := newAllowedDirs(append([]string{cfg.DownloadDir}, cfg.AllowDirs...))
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	d := &Daemon{
		cfg: cfg, log: cfg.Logger, dirs: dirs,
		wake:     make(chan struct{}, 1),
		torrents: map[metainfo.Hash]*torrent{},
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Bind, strconv.Itoa(cfg.Port)))
	if err != nil {
		return nil, fmt.Errorf("daemon: listen for peers: %w", err)
	}
	scfg := peer.SessionConfig{Listener: ln, Dialer: d.dialer(), Logger: cfg.Logger, Encryption: cfg.Encryption}
	if cfg.DHT != nil {
		if ap, err := netip.ParseAddrPort(cfg.DHT.Addr().String()); err == nil {
			scfg.DHTPort = ap.Port()
		}
		scfg.OnDHTPort = cfg.DHT.AddNode // peers that run a node tell us (BEP 5 port message)
	}
	d.sess, err = peer.NewSession(scfg)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("daemon: %w", err)
	}
	if err := d.load(); err != nil {
		ln.Close()
		return nil, err
	}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(newCollector(d)); err != nil {
			return nil, fmt.Errorf("daemon: register metrics: %w", err)
		}
	}
	return d, nil
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// load restores the saved torrents; each gets a resume check when Run starts.
func (d *Daemon) load() error {
	sf, err := d.loadState()
	if err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	d.settings = sf.Settings
	if d.cfg.Settings != nil {
		d.settings = *d.cfg.Settings
	}
	for _, rec := range sf.Torrents {
		ih, err := metainfo.HashFromHex(rec.InfoHash)
		if err != nil {
			return fmt.Errorf("daemon: state: %w", err)
		}
		mi, err := metainfo.Load(d.torrentPath(ih))
		if err != nil && rec.Magnet != "" && errors.Is(err, fs.ErrNotExist) {
			mi, err = nil, nil // added by magnet: the metadata is fetched again
		}
		if err != nil {
			// Keep the record: the user sees the error and can remove it.
			d.log.Error("cached torrent unreadable", "infohash", ih, "err", err)
		}
		t := newTorrent(ih, mi, rec)
		if err != nil {
			t.fail(fmt.Errorf("load cached torrent: %w", err))
		}
		d.torrents[ih] = t
		d.order = append(d.order, t)
	}
	d.applyGlobalLimits()
	return nil
}

// PeerAddr is the address the daemon listens on for peers.
func (d *Daemon) PeerAddr() net.Addr { return d.sess.Addr() }

// Run runs the daemon until ctx is done: it checks and starts the torrents, keeps their
// stats, queue and seed limits, watches the watch folder and saves the state. It stops every
// swarm and saves the state before it returns.
func (d *Daemon) Run(ctx context.Context) error {
	sctx, stopSession := context.WithCancel(ctx)
	defer stopSession()
	d.wg.Go(func() { _ = d.sess.Run(sctx) })
	if d.cfg.DHT != nil {
		d.wg.Go(func() {
			if err := d.cfg.DHT.Run(sctx); err != nil {
				d.log.Error("dht node stopped", "err", err)
			}
		})
	}
	tick := time.NewTicker(d.cfg.Tick)
	defer tick.Stop()
	lastSave := time.Now()
	var watch <-chan time.Time
	if d.cfg.Watch != "" {
		wt := time.NewTicker(2 * time.Second)
		defer wt.Stop()
		watch = wt.C
		d.scanWatch()
	}
	for {
		d.schedule(sctx)
		select {
		case <-ctx.Done():
			return d.shutdown(stopSession)
		case <-d.wake:
		case now := <-tick.C:
			d.refresh(now)
			if now.Sub(lastSave) >= d.cfg.SaveEvery {
				d.markDirty()
				lastSave = now
			}
			d.subs.publish(Event{Kind: EventTick})
		case <-watch:
			d.scanWatch()
		}
		if err := d.saveIfDirty(); err != nil {
			d.log.Error("save state", "err", err)
		}
	}
}

// poke wakes Run's loop to re-schedule; it never blocks.
func (d *Daemon) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *Daemon) markDirty() {
	d.mu.Lock()
	d.dirty = true
	d.mu.Unlock()
}

// saveIfDirty writes the state when a record changed.
func (d *Daemon) saveIfDirty() error {
	d.mu.Lock()
	if !d.dirty {
		d.mu.Unlock()
		return nil
	}
	d.dirty = false
	sf := d.snapshotState()
	d.mu.Unlock()
	return d.saveState(sf)
}

// snapshotState copies the records; d.mu is held.
func (d *Daemon) snapshotState() stateFile {
	sf := stateFile{Version: stateVersion, Settings: d.settings, Torrents: make([]record, 0, len(d.order))}
	for _, t := range d.order {
		sf.Torrents = append(sf.Torrents, t.recordNow())
	}
	return sf
}

// save writes the state now (after a change the caller must not lose, such as an add).
func (d *Daemon) save() error {
	d.mu.Lock()
	d.dirty = false
	sf := d.snapshotState()
	d.mu.Unlock()
	return d.saveState(sf)
}

// shutdown stops every swarm and check, closes storage and saves the state.
func (d *Daemon) shutdown(stopSession context.CancelFunc) error {
	d.mu.Lock()
	d.closed = true
	for _, t := range d.order {
		if t.cancelChk != nil {
			t.cancelChk()
		}
	}
	d.mu.Unlock()
	stopSession() // stops every swarm, each sending its stopped announce
	d.wg.Wait()
	d.mu.Lock()
	var errs []error
	for _, t := range d.order {
		errs = append(errs, t.closeStorage())
	}
	d.mu.Unlock()
	errs = append(errs, d.save())
	d.subs.closeAll()
	return errors.Join(errs...)
}

// lookup returns the torrent with that hex info-hash; d.mu is held.
func (d *Daemon) lookup(hexHash string) (*torrent, error) {
	ih, err := metainfo.HashFromHex(hexHash)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	t := d.torrents[ih]
	if t == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, ih)
	}
	return t, nil
}

// removeFromOrder drops t from the queue order; d.mu is held.
func (d *Daemon) removeFromOrder(t *torrent) {
	d.order = slices.DeleteFunc(d.order, func(x *torrent) bool { return x == t })
	delete(d.torrents, t.ih)
}
