package daemon

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// maxTorrentFile bounds a .torrent read from the watch folder.
const maxTorrentFile = 16 << 20

// scanWatch adds every *.torrent in the watch folder and renames it *.torrent.added (or
// *.torrent.invalid when it cannot be added), as Transmission does, so it is added once.
func (d *Daemon) scanWatch() {
	entries, err := os.ReadDir(d.cfg.Watch)
	if err != nil {
		d.log.Warn("watch folder", "err", err)
		return
	}
	for _, e := range entries {
		if e.IsDir() || !strings.EqualFold(filepath.Ext(e.Name()), ".torrent") {
			continue
		}
		p := filepath.Join(d.cfg.Watch, e.Name())
		if fi, err := e.Info(); err != nil || time.Since(fi.ModTime()) < time.Second {
			continue // maybe still being written: next scan
		}
		suffix := ".added"
		if err := d.addWatched(p); err != nil && !errors.Is(err, ErrExists) {
			d.log.Warn("watch folder: cannot add", "file", p, "err", err)
			suffix = ".invalid"
		}
		if err := os.Rename(p, p+suffix); err != nil {
			d.log.Warn("watch folder", "err", err)
		}
	}
}

func (d *Daemon) addWatched(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.Size() > maxTorrentFile {
		return ErrBadInput
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	_, err = d.Add(AddRequest{Torrent: b})
	return err
}
