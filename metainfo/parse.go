package metainfo

import (
	"crypto/sha1"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"

	"github.com/anacrolix/torrent/bencode"
)

// Caps on what a hostile .torrent can make us allocate.
const (
	// MaxSize is the largest .torrent accepted, in bytes.
	MaxSize = 64 << 20
	// MaxFiles is the largest number of files in a multi-file torrent. libtorrent has no
	// file-count setting; its bdecode token limit (max_decode_tokens, 3,000,000) bounds it:
	// a minimal files entry costs 8 tokens, and libtorrent 2.0.8 loaded 370,000 one-letter
	// files but refused 380,000 ("bencoded item count limit exceeded"). Our cap stays under
	// that, so we accept no torrent that libtorrent refuses for its size.
	MaxFiles = 350_000
	// MaxPieceLength is the largest piece length accepted (128 MiB).
	MaxPieceLength = 128 << 20
	// maxPathComponents caps the depth of one file path.
	maxPathComponents = 1024
	// maxTrackers caps announce-list tiers, URLs per tier and web seeds.
	maxTrackers = 10_000
)

// Load reads and parses a .torrent file, refusing files larger than MaxSize before reading.
func Load(path string) (*MetaInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load torrent: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > MaxSize {
		return nil, fmt.Errorf("load torrent %s: %w: %d bytes, limit %d", path, ErrTooLarge, st.Size(), MaxSize)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("load torrent: %w", err)
	}
	m, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("load torrent %s: %w", path, err)
	}
	return m, nil
}

// Parse decodes and validates a .torrent. The info-hash is the SHA-1 of the info dictionary's
// bytes exactly as they appear in data. Unknown top-level keys are kept in Extra; unknown info
// keys survive in InfoBytes.
func Parse(data []byte) (*MetaInfo, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%w: torrent of %d bytes, limit %d", ErrTooLarge, len(data), MaxSize)
	}
	top, err := decodeDict(data, "torrent")
	if err != nil {
		return nil, err
	}
	m := &MetaInfo{}
	if err := m.parseTop(top); err != nil {
		return nil, err
	}
	raw, ok := top["info"]
	if !ok {
		return nil, fieldErr(ErrMissing, "info", "missing")
	}
	if err := m.Info.parse(raw); err != nil {
		return nil, err
	}
	m.InfoBytes = raw
	m.InfoHash = sha1.Sum(raw)
	return m, nil
}

// topParsers decode the known top-level keys; anything else goes to Extra.
var topParsers = map[string]func(m *MetaInfo, raw []byte) error{
	"announce": func(m *MetaInfo, raw []byte) (err error) {
		m.Announce, err = rawString(raw, "announce")
		return err
	},
	"announce-list": func(m *MetaInfo, raw []byte) (err error) {
		m.AnnounceList, err = parseTiers(raw)
		return err
	},
	"comment": func(m *MetaInfo, raw []byte) (err error) {
		m.Comment, err = rawString(raw, "comment")
		return err
	},
	"created by": func(m *MetaInfo, raw []byte) (err error) {
		m.CreatedBy, err = rawString(raw, "created by")
		return err
	},
	"creation date": func(m *MetaInfo, raw []byte) (err error) {
		m.CreationDate, err = rawInt(raw, "creation date")
		return err
	},
	"url-list": func(m *MetaInfo, raw []byte) (err error) {
		m.URLList, err = parseURLList(raw)
		return err
	},
	"info": func(*MetaInfo, []byte) error { return nil },
}

func (m *MetaInfo) parseTop(top map[string]bencode.Bytes) error {
	for _, k := range slices.Sorted(maps.Keys(top)) {
		raw := top[k]
		p, ok := topParsers[k]
		if !ok {
			if m.Extra == nil {
				m.Extra = map[string]bencode.Bytes{}
			}
			m.Extra[k] = raw
			continue
		}
		if err := p(m, raw); err != nil {
			return err
		}
	}
	return nil
}

// parseTiers decodes BEP 12 announce-list: a list of tiers, each a list of URLs.
func parseTiers(raw []byte) ([][]string, error) {
	tiers := [][]string{}
	err := forEachItem(raw, "announce-list", maxTrackers, func(i int, item []byte) error {
		tier, err := stringList(item, fmt.Sprintf("announce-list[%d]", i), maxTrackers)
		tiers = append(tiers, tier)
		return err
	})
	return tiers, err
}

// parseURLList decodes BEP 19 url-list, which is a single URL string or a list of them.
func parseURLList(raw []byte) ([]string, error) {
	if len(raw) > 0 && raw[0] >= '0' && raw[0] <= '9' {
		s, err := rawString(raw, "url-list")
		if s == "" {
			return nil, err
		}
		return []string{s}, err
	}
	return stringList(raw, "url-list", maxTrackers)
}
