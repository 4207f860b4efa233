package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"time"

	"golang.org/x/time/rate"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/bitfield"
	"github.com/swarm-bt/swarm/peer/storage"
)

// torrent is the registry's entry for one torrent. All fields are guarded by Daemon.mu.
type torrent struct {
	ih  metainfo.Hash
	mi  *metainfo.MetaInfo // nil when the cached metadata could not be read
	rec record             // what is saved; Downloaded/Uploaded exclude the running swarm

	up, down *rate.Limiter // this torrent's own limits

	st        storage.Storage   // open while the torrent is in the daemon and checked
	have      bitfield.Bitfield // verified pieces when not running; valid when haveOK
	haveOK    bool
	haveCount int
	needCheck bool // a recheck was asked for
	checking  bool
	cancelChk context.CancelFunc
	run       *swarmRun
	last      peer.Stats // from the running swarm, refreshed every tick
	seeds     int        // connected peers with every piece, at the last refresh
	errMsg    string
	lastTick  time.Time
	// A magnet torrent without metadata (mi == nil) fetches it first.
	fetching    bool
	cancelFetch context.CancelFunc
	metaProg    peer.MetadataProgress
	peers       []netip.AddrPort // to dial at start: the magnet's x.pe and who gave the metadata
	quiet       int              // refreshes skipped because the torrent was idle
	magnet      string           // cached: List builds every status every second
	removed     bool
	// override lets a finished torrent seed again after Resume, past its seed limit.
	override bool
}

// swarmRun is one running peer.Swarm of the session.
type swarmRun struct {
	sw       *peer.Swarm
	stopping bool          // a Remove from the session is under way
	done     chan struct{} // closed once the registry has the swarm's final figures
}

func newTorrent(ih metainfo.Hash, mi *metainfo.MetaInfo, rec record) *torrent {
	t := &torrent{ih: ih, mi: mi, rec: rec, up: peer.NewLimiter(rate.Inf), down: peer.NewLimiter(rate.Inf)}
	if mi != nil {
		t.magnet = mi.Magnet()
	}
	t.applyLimits()
	return t
}

func (t *torrent) applyLimits() {
	setRate(t.up, t.rec.Limits.UpRate)
	setRate(t.down, t.rec.Limits.DownRate)
}

// setRate changes a limiter made by peer.NewLimiter, keeping its burst large enough for a
// block (peer.NewLimiter's rule: at least four blocks or a tenth of a second).
func setRate(l *rate.Limiter, bytesPerSec int64) {
	tmp := peer.NewLimiter(rate.Limit(bytesPerSec))
	l.SetBurst(tmp.Burst())
	l.SetLimit(tmp.Limit())
}

func (t *torrent) fail(err error) {
	t.errMsg = err.Error()
}

func (t *torrent) numPieces() int {
	if t.mi == nil {
		return 0
	}
	return t.mi.Info.NumPieces()
}

func (t *torrent) complete() bool {
	return t.haveOK && t.numPieces() > 0 && t.haveCount == t.numPieces()
}

// state derives the torrent's state from its bookkeeping.
func (t *torrent) state() State {
	switch {
	case t.errMsg != "":
		return StateError
	case t.checking:
		return StateChecking
	case t.rec.Paused:
		return StatePaused
	case t.mi == nil:
		return StateMetadata
	case t.rec.Finished:
		return StateFinished
	case t.needCheck || !t.haveOK:
		return StateChecking
	case t.run != nil && t.complete():
		return StateSeeding
	case t.run != nil:
		return StateDownloading
	case t.complete():
		return StateSeeding
	}
	return StateQueued
}

// recordNow is the record with the running swarm's traffic added.
func (t *torrent) recordNow() record {
	r := t.rec
	r.Downloaded += t.last.Downloaded
	r.Uploaded += t.last.Uploaded
	return r
}

// stop cancels the running swarm or check; their goroutines report back to the registry.
func (t *torrent) stop(d *Daemon) {
	if r := t.run; r != nil && !r.stopping {
		r.stopping = true
		ih := t.ih
		// Remove waits for the swarm's stopped announce: never under d.mu.
		d.wg.Go(func() { _ = d.sess.Remove(ih) })
	}
	if t.cancelChk != nil {
		t.cancelChk()
	}
	if t.cancelFetch != nil {
		t.cancelFetch()
	}
}

func (t *torrent) closeStorage() error {
	if t.st == nil {
		return nil
	}
	err := t.st.Close()
	t.st = nil
	if err != nil {
		return fmt.Errorf("close %s: %w", t.ih, err)
	}
	return nil
}

// schedule starts and stops checks and swarms to match what each torrent wants: paused ones
// stop, unchecked ones are checked (a few at a time), complete ones seed, and incomplete ones
// download while there are download slots, the rest waiting queued in order. A download that
// runs keeps its slot (a resumed torrent queues behind it) unless the limit was lowered.
func (d *Daemon) schedule(ctx context.Context) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	var waiting []*torrent // incomplete, wanting a download slot, in queue order
	for _, t := range d.order {
		switch {
		case t.errMsg != "" || t.rec.Paused || t.rec.Finished:
			t.stop(d)
		case t.mi == nil:
			if !t.fetching {
				d.startFetch(ctx, t)
			}
		case t.needCheck && t.run != nil && !t.run.stopping:
			if !t.checking {
				d.startLiveRecheck(ctx, t) // peers stay connected meanwhile
			}
		case t.needCheck || !t.haveOK:
			if t.run != nil {
				t.stop(d) // check once it has stopped
			} else if !t.checking && d.checks < d.cfg.Checks {
				d.startCheck(ctx, t)
			}
		case t.complete():
			d.startRun(t)
		default:
			waiting = append(waiting, t)
		}
	}
	slots := d.settings.MaxActiveDownloads
	if slots <= 0 {
		slots = len(waiting)
	}
	for _, t := range waiting { // running ones first, in order
		if t.run != nil && !t.run.stopping {
			if slots > 0 {
				slots--
			} else {
				t.stop(d) // the limit was lowered: back to the queue
			}
		}
	}
	for _, t := range waiting {
		if t.run == nil && slots > 0 {
			slots--
			d.startRun(t)
		}
	}
}

// startCheck verifies the torrent's content off the registry lock; d.mu is held.
func (d *Daemon) startCheck(ctx context.Context, t *torrent) {
	t.checking = true
	d.checks++
	cctx, cancel := context.WithCancel(ctx)
	t.cancelChk = cancel
	old := t.st // reopened: file sizes are read at open
	t.st = nil
	mi, dir := t.mi, t.rec.SaveDir
	d.wg.Go(func() {
		defer cancel()
		done := d.checking()
		st, have, err := checkContent(cctx, mi, dir, old)
		done()
		d.mu.Lock()
		t.checking = false
		t.cancelChk = nil
		d.checks--
		switch {
		case t.removed || d.closed:
			if st != nil {
				_ = st.Close()
			}
		case err != nil && cctx.Err() == nil:
			t.fail(err)
		case err == nil:
			t.st, t.have, t.haveOK, t.needCheck = st, have, true, false
			t.haveCount = have.Count()
			if t.complete() && t.rec.DoneAt.IsZero() {
				t.rec.DoneAt = time.Now()
				d.dirty = true
			}
		}
		d.mu.Unlock()
		d.poke()
		d.subs.publish(Event{Kind: EventChanged, InfoHash: t.ih.String()})
	})
}

// startLiveRecheck verifies the content inside the running swarm (peer.Swarm.Recheck): no
// reconnect, no new announce; d.mu is held.
func (d *Daemon) startLiveRecheck(ctx context.Context, t *torrent) {
	t.checking = true
	cctx, cancel := context.WithCancel(ctx)
	t.cancelChk = cancel
	sw := t.run.sw
	d.wg.Go(func() {
		defer cancel()
		done := d.checking()
		res, err := sw.Recheck(cctx)
		done()
		d.mu.Lock()
		t.checking, t.cancelChk = false, nil
		switch {
		case errors.Is(err, peer.ErrNotRunning):
			// It stopped meanwhile: needCheck stays, and the stopped path checks it.
		case err != nil && cctx.Err() == nil:
			t.fail(err)
		case err == nil:
			t.needCheck = false
			d.log.Info("recheck done", "infohash", t.ih, "result", res)
		}
		d.mu.Unlock()
		d.poke()
		d.subs.publish(Event{Kind: EventChanged, InfoHash: t.ih.String()})
	})
}

// checking calls the Checking hook, if any.
func (d *Daemon) checking() (done func()) {
	if d.cfg.Checking == nil {
		return func() {}
	}
	return d.cfg.Checking()
}

// checkContent closes old (if any), opens the content and verifies every piece.
func checkContent(ctx context.Context, mi *metainfo.MetaInfo, dir string, old storage.Storage) (storage.Storage, bitfield.Bitfield, error) {
	if old != nil {
		if err := old.Close(); err != nil {
			return nil, bitfield.Bitfield{}, fmt.Errorf("close content: %w", err)
		}
	}
	st, err := storage.OpenFiles(&mi.Info, dir)
	if err != nil {
		return nil, bitfield.Bitfield{}, fmt.Errorf("open content in %s: %w", dir, err)
	}
	have, err := storage.Check(ctx, &mi.Info, st, max(1, runtime.GOMAXPROCS(0)/2), nil)
	if err != nil {
		_ = st.Close()
		return nil, bitfield.Bitfield{}, fmt.Errorf("check content: %w", err)
	}
	return st, have, nil
}

// startRun adds the torrent's swarm to the session unless it runs; d.mu is held.
func (d *Daemon) startRun(t *torrent) {
	if t.run != nil {
		return
	}
	cfg := peer.Config{
		Info: &t.mi.Info, InfoHash: t.ih, InfoBytes: t.mi.InfoBytes, Storage: t.st, Have: t.have,
		MaxPeers: d.cfg.MaxPeers, Logger: d.log, Timeouts: d.cfg.Timeouts,
		UploadLimiter: t.up, DownloadLimiter: t.down,
	}
	ann, ds, err := d.peerSources(t.mi.Trackers(), t.mi.Info.Private)
	if err != nil {
		t.fail(err)
		return
	}
	cfg.Announcer = ann
	sw, err := d.sess.Add(cfg)
	if err != nil {
		t.fail(err)
		return
	}
	if ds != nil {
		ds.sink.Store(sw)
	}
	if len(t.peers) > 0 {
		sw.AddPeersFrom(peer.SourceMagnet, t.peers...)
		t.peers = nil
	}
	r := &swarmRun{sw: sw, done: make(chan struct{})}
	t.run = r
	t.last = peer.Stats{}
	t.lastTick = time.Now()
	d.wg.Go(func() { d.watchRun(t, r) })
}

// watchRun waits for the swarm to stop (paused, removed, a fatal error such as a full disk,
// or the daemon's end) and keeps its final figures.
func (d *Daemon) watchRun(t *torrent, r *swarmRun) {
	defer close(r.done)
	<-r.sw.Done()
	_ = d.sess.Remove(t.ih) // after a fatal error the session still lists it
	err := r.sw.Err()
	final := r.sw.Stats()
	ps := r.sw.Pieces()
	d.mu.Lock()
	t.rec.Downloaded += final.Downloaded
	t.rec.Uploaded += final.Uploaded
	t.last = peer.Stats{}
	t.have, t.haveCount = ps.Have, ps.Have.Count()
	t.run = nil
	if err != nil && !errors.Is(err, context.Canceled) {
		t.fail(err)
	}
	d.dirty = true
	d.mu.Unlock()
	d.poke()
	d.subs.publish(Event{Kind: EventChanged, InfoHash: t.ih.String()})
}

func (d *Daemon) dialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	nd := &net.Dialer{Timeout: 10 * time.Second}
	if d.cfg.Bind != "" {
		nd.LocalAddr = &net.TCPAddr{IP: net.ParseIP(d.cfg.Bind)}
	}
	return nd.DialContext
}

// idleRefresh is how many ticks an idle seeding torrent's stats may be skipped.
const idleRefresh = 4

// refresh reads every running swarm's stats, counts seeding time and applies seed limits.
func (d *Daemon) refresh(now time.Time) {
	d.mu.Lock()
	runs := map[*torrent]*peer.Swarm{}
	for _, t := range d.order {
		if t.run == nil {
			continue
		}
		// A complete torrent with no peers and no traffic changes only when a peer comes:
		// look at it every idleRefresh ticks, so that a thousand idle seeds cost little.
		if t.complete() && len(t.last.Peers) == 0 && t.last.UpRate == 0 && t.quiet < idleRefresh {
			t.quiet++
			continue
		}
		t.quiet = 0
		runs[t] = t.run.sw
	}
	d.mu.Unlock()
	stats := make(map[*torrent]peer.Stats, len(runs))
	seeds := map[*torrent]int{}
	for t, sw := range runs {
		st := sw.Stats() // through the swarm's loop: never under d.mu
		stats[t] = st
		if len(st.Peers) > 0 {
			for _, e := range sw.Ledger() {
				if e.Connected != nil && e.Progress == 1 {
					seeds[t]++
				}
			}
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for t, st := range stats {
		if t.run == nil || t.run.sw != runs[t] {
			continue // stopped meanwhile: its final stats are in the record
		}
		t.last, t.seeds = st, seeds[t]
		t.haveCount = st.Have
		if st.Left == 0 {
			if t.rec.DoneAt.IsZero() {
				t.rec.DoneAt = now
				d.dirty = true
			}
			t.rec.SeedTime += Duration(now.Sub(t.lastTick))
			if d.seedLimitReached(t) {
				t.rec.Finished = true
				d.dirty = true
				t.stop(d)
			}
		}
		t.lastTick = now
	}
}

// seedLimitReached applies the torrent's seed limits, or the global ones; d.mu is held.
func (d *Daemon) seedLimitReached(t *torrent) bool {
	if t.override {
		return false
	}
	ratio, seedTime := t.rec.Limits.SeedRatio, t.rec.Limits.SeedTime
	if ratio == 0 {
		ratio = d.settings.SeedRatio
	}
	if seedTime == 0 {
		seedTime = d.settings.SeedTime
	}
	r := t.recordNow()
	size := t.mi.Info.TotalLength()
	if ratio > 0 && size > 0 && float64(r.Uploaded) >= ratio*float64(size) {
		return true
	}
	return seedTime > 0 && r.SeedTime >= seedTime
}

// applyGlobalLimits sets the shared limiters from the settings; d.mu is held (or New runs).
func (d *Daemon) applyGlobalLimits() {
	d.sess.SetRateLimits(limitOf(d.settings.UpRate), limitOf(d.settings.DownRate))
}

func limitOf(bytesPerSec int64) rate.Limit {
	if bytesPerSec <= 0 {
		return rate.Inf
	}
	return rate.Limit(bytesPerSec)
}
