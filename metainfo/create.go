package metainfo

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/anacrolix/torrent/bencode"
)

// Piece length bounds for the automatic choice.
const (
	minAutoPieceLength = 16 << 10
	maxAutoPieceLength = 16 << 20
	targetPieces       = 2000
)

// CreateConfig says what Create builds. Only Path is required.
type CreateConfig struct {
	// Path is the file or folder to share. Its base name becomes the torrent's name, unless
	// Name is set.
	Path string
	// Name, when set, is the torrent's name (the file or top folder a client saves), in
	// place of Path's base name. It must be one path component.
	Name string
	// PieceLength in bytes; 0 picks one automatically (see AutoPieceLength).
	PieceLength int64
	// Announce holds BEP 12 tiers of tracker URLs; the first URL also becomes announce.
	Announce [][]string
	Comment  string
	// Source is written into the info dictionary (private trackers use it to make the
	// info-hash unique).
	Source  string
	Private bool
	// WebSeeds are BEP 19 url-list entries.
	WebSeeds []string
	// NoDate leaves out the creation date.
	NoDate bool
	// CreationDate is written unless NoDate; zero means the current time.
	CreationDate time.Time
	// CreatedBy defaults to "swarm".
	CreatedBy string
	// Workers is the number of hashing goroutines; 0 means GOMAXPROCS.
	Workers int
	// Progress, if not nil, is called after each piece with bytes hashed and the total, from
	// one goroutine at a time.
	Progress func(hashed, total int64)
}

// AutoPieceLength picks the smallest power of two from 16 KiB to 16 MiB that gives at most
// 2,000 pieces, so most payloads get 1,000 to 2,000 pieces.
func AutoPieceLength(total int64) int64 {
	pl := int64(minAutoPieceLength)
	for pl < maxAutoPieceLength && total > pl*targetPieces {
		pl *= 2
	}
	return pl
}

// Create hashes a file or folder and returns the torrent, ready to Marshal. Folder contents are
// ordered and filtered as listFiles documents (mktorrent's order, so the info-hash matches
// mktorrent's for the same piece length). Hashing streams through a bounded buffer pool on
// Workers goroutines; cancelling ctx stops it.
func Create(ctx context.Context, cfg CreateConfig) (*MetaInfo, error) {
	abs, err := filepath.Abs(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("create torrent: %w", err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("create torrent: %w", err)
	}
	name := filepath.Base(abs)
	if cfg.Name != "" {
		name = cfg.Name
	}
	if st.Mode().IsRegular() {
		seg := segment{name: abs, length: st.Size(), open: openFile(abs)}
		return build(ctx, cfg, name, nil, []segment{seg})
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("create torrent: %w: %s is not a regular file or folder", ErrBadSource, abs)
	}
	// Walk the real folder when PATH is a symlink to one (WalkDir would not enter it), but keep
	// the name the user gave, as mktorrent does.
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("create torrent: %w", err)
	}
	files, err := listFiles(real)
	if err != nil {
		return nil, fmt.Errorf("create torrent: %w", err)
	}
	layout := make([]File, len(files))
	segs := make([]segment, len(files))
	for i, f := range files {
		layout[i] = File{Length: f.length, Path: f.rel}
		segs[i] = segment{name: f.abs, length: f.length, open: openFile(f.abs)}
	}
	return build(ctx, cfg, name, layout, segs)
}

// CreateFromReader builds a single-file torrent named name from the next size bytes of r,
// without touching disk (cfg.Path is ignored). It suits tests that keep a payload in memory.
func CreateFromReader(ctx context.Context, r io.Reader, size int64, name string, cfg CreateConfig) (*MetaInfo, error) {
	if size < 0 {
		return nil, fmt.Errorf("create torrent: negative size %d", size)
	}
	open := func() (io.ReadCloser, error) { return io.NopCloser(r), nil }
	return build(ctx, cfg, name, nil, []segment{{name: name, length: size, open: open}})
}

// build hashes the segments and assembles, encodes and re-parses the torrent, so what Create
// returns is exactly what Parse would make of the written file.
func build(ctx context.Context, cfg CreateConfig, name string, files []File, segs []segment) (*MetaInfo, error) {
	if err := checkComponent(name, "name"); err != nil {
		return nil, fmt.Errorf("create torrent: %w", err)
	}
	var total int64
	for _, s := range segs {
		total += s.length
	}
	pl := cfg.PieceLength
	if pl == 0 {
		pl = AutoPieceLength(total)
	}
	if pl < 0 || pl > MaxPieceLength {
		return nil, fmt.Errorf("create torrent: piece length %d out of range 1..%d", pl, MaxPieceLength)
	}
	if total == 0 {
		what := "is empty"
		if files != nil {
			what = "holds only empty files"
		}
		return nil, fmt.Errorf("create torrent: %w: %s %s (a torrent needs at least one byte)", ErrEmpty, name, what)
	}
	if n := total / pl; n > MaxSize/HashSize {
		return nil, fmt.Errorf("create torrent: %w: %d pieces of %d bytes would not fit in %d bytes of metainfo; use a larger piece length",
			ErrTooLarge, n, pl, MaxSize)
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	pieces, err := hashPieces(ctx, segs, pl, workers, cfg.Progress)
	if err != nil {
		return nil, fmt.Errorf("create torrent: %w", err)
	}
	info, err := encodeInfo(cfg, name, pl, pieces, files, total)
	if err != nil {
		return nil, fmt.Errorf("create torrent: %w", err)
	}
	data, err := topLevel(cfg, info).Marshal()
	if err != nil {
		return nil, fmt.Errorf("create torrent: %w", err)
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("create torrent: %w", err)
	}
	return m, nil
}

// encodeInfo writes the info dictionary with the keys mktorrent writes, in bencode's sorted
// order: files or length, name, piece length, pieces, private (only when set), source.
func encodeInfo(cfg CreateConfig, name string, pl int64, pieces []byte, files []File, total int64) ([]byte, error) {
	d := map[string]any{"name": name, "piece length": pl, "pieces": pieces}
	if files == nil {
		d["length"] = total
	} else {
		list := make([]map[string]any, len(files))
		for i, f := range files {
			list[i] = map[string]any{"length": f.Length, "path": f.Path}
		}
		d["files"] = list
	}
	if cfg.Private {
		d["private"] = 1
	}
	if cfg.Source != "" {
		d["source"] = cfg.Source
	}
	return bencode.Marshal(d)
}

// topLevel fills the keys outside the info dictionary.
func topLevel(cfg CreateConfig, info []byte) *MetaInfo {
	m := &MetaInfo{InfoBytes: info, Comment: cfg.Comment, CreatedBy: cfg.CreatedBy, URLList: cfg.WebSeeds}
	if m.CreatedBy == "" {
		m.CreatedBy = "swarm"
	}
	if !cfg.NoDate {
		t := cfg.CreationDate
		if t.IsZero() {
			t = time.Now()
		}
		m.CreationDate = t.Unix()
	}
	var tiers [][]string
	for _, tier := range cfg.Announce {
		if len(tier) > 0 {
			tiers = append(tiers, tier)
		}
	}
	if len(tiers) > 0 {
		m.Announce = tiers[0][0]
	}
	if len(tiers) > 1 || len(tiers) == 1 && len(tiers[0]) > 1 {
		m.AnnounceList = tiers
	}
	return m
}
