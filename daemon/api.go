package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/swarm-bt/swarm/metainfo"
)

// AddRequest adds one torrent: from .torrent bytes or a magnet link.
type AddRequest struct {
	Torrent []byte // a .torrent file
	Magnet  string // or a magnet link
	// SaveDir is the folder the content goes in (DIR/<name>); "" means the download folder. It
	// must be absolute and inside an allowed root.
	SaveDir string
	Paused  bool
	Limits  Limits
}

// Add adds a torrent and saves the state before it returns, so an added torrent survives a
// crash. It fails with ErrBadInput (malformed torrent or magnet), ErrDirNotAllowed,
// ErrExists or ErrUnsupported (magnet links until metadata exchange exists).
func (d *Daemon) Add(req AddRequest) (Status, error) {
	dir := req.SaveDir
	if dir == "" {
		dir = d.cfg.DownloadDir
	}
	dir, err := d.dirs.check(dir)
	if err != nil {
		return Status{}, err
	}
	if err := validLimits(req.Limits); err != nil {
		return Status{}, err
	}
	var mi *metainfo.MetaInfo
	switch {
	case len(req.Torrent) > 0 && req.Magnet != "":
		return Status{}, fmt.Errorf("%w: give a torrent or a magnet link, not both", ErrBadInput)
	case req.Magnet != "":
		return d.addMagnet(req.Magnet, dir, req.Paused, req.Limits)
	case len(req.Torrent) == 0:
		return Status{}, fmt.Errorf("%w: no torrent or magnet link", ErrBadInput)
	default:
		if mi, err = metainfo.Parse(req.Torrent); err != nil {
			return Status{}, fmt.Errorf("%w: %w", ErrBadInput, err)
		}
	}
	return d.addMeta(mi, req.Torrent, dir, req.Paused, req.Limits)
}

func (d *Daemon) addMeta(mi *metainfo.MetaInfo, raw []byte, dir string, paused bool, lim Limits) (Status, error) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return Status{}, ErrClosed
	}
	if d.torrents[mi.InfoHash] != nil {
		d.mu.Unlock()
		return Status{}, fmt.Errorf("%w: %s", ErrExists, mi.InfoHash)
	}
	d.mu.Unlock()
	// Cache the metadata before any record refers to it.
	if err := d.saveTorrent(mi, raw); err != nil {
		return Status{}, fmt.Errorf("daemon: %w", err)
	}
	rec := record{InfoHash: mi.InfoHash.String(), Name: mi.Info.Name, SaveDir: dir, Paused: paused, AddedAt: time.Now().UTC(), Limits: lim}
	return d.insert(newTorrent(mi.InfoHash, mi, rec))
}

// insert registers a new torrent and saves the state before returning.
func (d *Daemon) insert(t *torrent) (Status, error) {
	d.mu.Lock()
	switch {
	case d.closed:
		d.mu.Unlock()
		return Status{}, ErrClosed
	case d.torrents[t.ih] != nil: // added before, or a concurrent add won
		d.mu.Unlock()
		return Status{}, fmt.Errorf("%w: %s", ErrExists, t.ih)
	}
	d.torrents[t.ih] = t
	d.order = append(d.order, t)
	st := d.status(t, len(d.order)-1)
	d.mu.Unlock()
	if err := d.save(); err != nil {
		return st, fmt.Errorf("daemon: %w", err)
	}
	d.log.Info("torrent added", "infohash", t.ih, "name", st.Name, "dir", st.SaveDir)
	d.subs.publish(Event{Kind: EventAdded, InfoHash: t.ih.String()})
	d.poke()
	return st, nil
}

// List returns every torrent in queue order.
func (d *Daemon) List() []Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Status, 0, len(d.order))
	for i, t := range d.order {
		out = append(out, d.status(t, i))
	}
	return out
}

// Get returns one torrent by hex info-hash.
func (d *Daemon) Get(infoHash string) (Status, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, err := d.lookup(infoHash)
	if err != nil {
		return Status{}, err
	}
	return d.status(t, slices.Index(d.order, t)), nil
}

// status builds t's Status; d.mu is held.
func (d *Daemon) status(t *torrent, queuePos int) Status {
	r := t.recordNow()
	s := Status{
		InfoHash: t.ih.String(), Name: r.Name, State: t.state(), Error: t.errMsg, SaveDir: r.SaveDir,
		Have: t.haveCount, NumPieces: t.numPieces(), Downloaded: r.Downloaded, Uploaded: r.Uploaded,
		AddedAt: r.AddedAt, DoneAt: r.DoneAt, SeedTime: r.SeedTime, Limits: r.Limits, ETA: -1,
		QueuePos: queuePos, Magnet: t.magnet,
	}
	if s.Magnet == "" {
		s.Magnet = r.Magnet
	}
	if t.mi == nil {
		if t.fetching {
			p := t.metaProg
			s.Metadata = &MetadataProgress{Peers: p.Connected, Offering: p.Offering, Have: p.Have, Total: p.Total}
		}
		return s
	}
	s.Size, s.PieceSize, s.Private = t.mi.Info.TotalLength(), t.mi.Info.PieceLength, t.mi.Info.Private
	if s.NumPieces > 0 {
		s.Progress = float64(s.Have) / float64(s.NumPieces)
	}
	if s.Size > 0 {
		s.Ratio = float64(r.Uploaded) / float64(s.Size)
	}
	if t.run != nil {
		st := t.last
		s.DownRate, s.UpRate, s.Peers = st.DownRate, st.UpRate, len(st.Peers)
		s.Tracker = st.Tracker.LastError
		s.Seeds = t.seeds
		if st.Left > 0 && st.DownRate > 0 {
			s.ETA = int64(float64(st.Left)/st.DownRate) + 1
		}
	}
	if t.complete() {
		s.ETA = 0
	}
	return s
}

// Remove stops a torrent and forgets it; with deleteData it also deletes its files (only
// those the torrent names, inside its save folder) and the folders left empty.
func (d *Daemon) Remove(ctx context.Context, infoHash string, deleteData bool) error {
	d.mu.Lock()
	t, err := d.lookup(infoHash)
	if err != nil {
		d.mu.Unlock()
		return err
	}
	t.removed = true
	t.stop(d)
	d.removeFromOrder(t)
	run := t.run
	d.mu.Unlock()
	if run != nil {
		select { // the swarm closes its connections and announces stopped
		case <-run.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	d.mu.Lock()
	errs := []error{t.closeStorage()}
	d.mu.Unlock()
	if deleteData && t.mi != nil {
		errs = append(errs, deleteContent(t.mi, t.rec.SaveDir))
	}
	if err := os.Remove(d.torrentPath(t.ih)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, err)
	}
	errs = append(errs, d.save())
	d.log.Info("torrent removed", "infohash", t.ih, "data", deleteData)
	d.subs.publish(Event{Kind: EventRemoved, InfoHash: t.ih.String()})
	d.poke()
	return errors.Join(errs...)
}

// deleteContent deletes the torrent's files under dir and then its folders once empty.
func deleteContent(mi *metainfo.MetaInfo, dir string) error {
	var errs []error
	for _, f := range mi.Info.FileEntries() {
		p := filepath.Join(dir, f.Path) // f.Path is local (metainfo validates it)
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if mi.Info.IsMultiFile() {
		root := filepath.Join(dir, mi.Info.Name)
		// Deepest folders first: each Remove fails harmlessly on a folder that is not empty.
		var dirs []string
		_ = filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
			if err == nil && de.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			_ = os.Remove(dirs[i])
		}
	}
	return errors.Join(errs...)
}

// Pause stops a torrent until Resume.
func (d *Daemon) Pause(infoHash string) error {
	return d.update(infoHash, func(t *torrent) error {
		t.rec.Paused = true
		return nil
	})
}

// Resume restarts a paused torrent, or one that a seed limit stopped (it then seeds past
// the limit until paused).
func (d *Daemon) Resume(infoHash string) error {
	return d.update(infoHash, func(t *torrent) error {
		if t.rec.Finished {
			t.rec.Finished, t.override = false, true
		}
		t.rec.Paused = false
		if t.errMsg != "" {
			t.errMsg = "" // try again: a fresh check, or a new metadata fetch
			t.needCheck = t.mi != nil
		}
		return nil
	})
}

// Recheck verifies the torrent's content on disk again (stopping its swarm meanwhile).
func (d *Daemon) Recheck(infoHash string) error {
	return d.update(infoHash, func(t *torrent) error {
		if t.mi == nil {
			return fmt.Errorf("%w: metadata unavailable", ErrBadInput)
		}
		t.needCheck, t.errMsg = true, ""
		return nil
	})
}

// SetLimits changes one torrent's limits at run time.
func (d *Daemon) SetLimits(infoHash string, l Limits) error {
	if err := validLimits(l); err != nil {
		return err
	}
	return d.update(infoHash, func(t *torrent) error {
		t.rec.Limits = l
		t.applyLimits()
		return nil
	})
}

// update applies f to a torrent under the lock, saves the state and re-schedules.
func (d *Daemon) update(infoHash string, f func(t *torrent) error) error {
	d.mu.Lock()
	t, err := d.lookup(infoHash)
	if err == nil {
		err = f(t)
	}
	d.mu.Unlock()
	if err != nil {
		return err
	}
	d.poke()
	d.subs.publish(Event{Kind: EventChanged, InfoHash: t.ih.String()})
	return d.save()
}

func validLimits(l Limits) error {
	if l.UpRate < 0 || l.DownRate < 0 {
		return fmt.Errorf("%w: negative rate limit", ErrBadInput)
	}
	return nil
}

// Settings returns the daemon-wide settings.
func (d *Daemon) Settings() Settings {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.settings
}

// SetSettings changes the daemon-wide settings at run time.
func (d *Daemon) SetSettings(s Settings) error {
	if s.UpRate < 0 || s.DownRate < 0 || s.MaxActiveDownloads < 0 || s.SeedRatio < 0 || s.SeedTime < 0 {
		return fmt.Errorf("%w: settings must not be negative", ErrBadInput)
	}
	d.mu.Lock()
	d.settings = s
	d.applyGlobalLimits()
	d.mu.Unlock()
	d.poke()
	return d.save()
}

// Totals adds up every torrent.
func (d *Daemon) Totals() Totals {
	d.mu.Lock()
	defer d.mu.Unlock()
	var tot Totals
	for _, t := range d.order {
		r := t.recordNow()
		tot.Torrents++
		tot.Downloaded += r.Downloaded
		tot.Uploaded += r.Uploaded
		tot.DownRate += t.last.DownRate
		tot.UpRate += t.last.UpRate
		tot.Peers += len(t.last.Peers)
	}
	return tot
}

// Files returns the torrent's files with their progress.
func (d *Daemon) Files(infoHash string) ([]File, error) {
	t, run, have, err := d.pieceSource(infoHash)
	if err != nil {
		return nil, err
	}
	if run != nil {
		have = run.sw.Pieces().Have
	}
	info := &t.mi.Info
	var out []File
	for _, f := range info.FileEntries() {
		out = append(out, File{Path: f.Path, Length: f.Length, Offset: f.Offset, Progress: fileProgress(info, have, f)})
	}
	return out, nil
}
