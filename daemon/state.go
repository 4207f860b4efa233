package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/swarm-bt/swarm/metainfo"
)

// stateVersion is the version of state.json this code writes.
const stateVersion = 1

// stateFile is DIR/state.json: everything a restart needs besides the cached .torrent files.
type stateFile struct {
	Version  int      `json:"version"`
	Settings Settings `json:"settings"`
	Torrents []record `json:"torrents"`
}

// record is what the daemon keeps about one torrent across restarts. The metadata itself is
// cached in DIR/torrents/<info-hash>.torrent, written before the record refers to it.
type record struct {
	InfoHash   string    `json:"info_hash"`
	Name       string    `json:"name"`
	SaveDir    string    `json:"save_dir"`
	Paused     bool      `json:"paused"`
	Finished   bool      `json:"finished,omitempty"` // stopped by a seed limit
	Downloaded int64     `json:"downloaded"`
	Uploaded   int64     `json:"uploaded"`
	SeedTime   Duration  `json:"seeding_time"`
	AddedAt    time.Time `json:"added_at"`
	DoneAt     time.Time `json:"completed_at,omitzero"`
	Limits     Limits    `json:"limits"`
	// Magnet is the link a torrent was added by; its metadata is fetched until cached.
	Magnet string `json:"magnet,omitempty"`
}

func (d *Daemon) statePath() string { return filepath.Join(d.cfg.Dir, "state.json") }

func (d *Daemon) torrentPath(ih metainfo.Hash) string {
	return filepath.Join(d.cfg.Dir, "torrents", ih.String()+".torrent")
}

// loadState reads DIR/state.json; a missing file is an empty state.
func (d *Daemon) loadState() (stateFile, error) {
	var sf stateFile
	b, err := os.ReadFile(d.statePath())
	if errors.Is(err, fs.ErrNotExist) {
		return stateFile{Version: stateVersion}, nil
	}
	if err != nil {
		return sf, fmt.Errorf("read state: %w", err)
	}
	if err := json.Unmarshal(b, &sf); err != nil {
		return sf, fmt.Errorf("read state %s: %w", d.statePath(), err)
	}
	if sf.Version != stateVersion {
		return sf, fmt.Errorf("read state %s: version %d, want %d", d.statePath(), sf.Version, stateVersion)
	}
	return sf, nil
}

// saveState writes the state atomically. The caller holds d.mu for reading the records only:
// the write itself happens under d.saveMu so that saves never interleave.
func (d *Daemon) saveState(sf stateFile) error {
	b, err := json.MarshalIndent(sf, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	d.saveMu.Lock()
	defer d.saveMu.Unlock()
	return writeAtomic(d.statePath(), b, 0o600)
}

// saveTorrent caches the metadata so that a restart needs nothing but DIR.
func (d *Daemon) saveTorrent(mi *metainfo.MetaInfo, raw []byte) error {
	if err := os.MkdirAll(filepath.Dir(d.torrentPath(mi.InfoHash)), 0o700); err != nil {
		return fmt.Errorf("cache torrent: %w", err)
	}
	return writeAtomic(d.torrentPath(mi.InfoHash), raw, 0o600)
}
