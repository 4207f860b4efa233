package metainfo

import (
	"errors"
	"fmt"

	"github.com/anacrolix/torrent/bencode"
)

// Marshal encodes the torrent. The info dictionary is written from InfoBytes verbatim, so the
// info-hash never changes; the other known fields are encoded from the struct, and Extra keys
// are written back as they were read.
func (m *MetaInfo) Marshal() ([]byte, error) {
	if len(m.InfoBytes) == 0 {
		return nil, errors.New("marshal torrent: no info bytes")
	}
	top := make(map[string]bencode.Bytes, len(m.Extra)+8)
	for k, v := range m.Extra {
		top[k] = v
	}
	top["info"] = m.InfoBytes
	fields := []struct {
		key  string
		val  any
		keep bool
	}{
		{"announce", m.Announce, m.Announce != ""},
		{"announce-list", m.AnnounceList, len(m.AnnounceList) > 0},
		{"comment", m.Comment, m.Comment != ""},
		{"created by", m.CreatedBy, m.CreatedBy != ""},
		{"creation date", m.CreationDate, m.CreationDate != 0},
		{"url-list", m.URLList, len(m.URLList) > 0},
	}
	for _, f := range fields {
		if !f.keep {
			delete(top, f.key)
			continue
		}
		b, err := bencode.Marshal(f.val)
		if err != nil {
			return nil, fmt.Errorf("marshal torrent %s: %w", f.key, err)
		}
		top[f.key] = b
	}
	out, err := bencode.Marshal(top)
	if err != nil {
		return nil, fmt.Errorf("marshal torrent: %w", err)
	}
	return out, nil
}

// Trackers returns the announce URLs in BEP 12 tiers: announce-list when it has any URL,
// otherwise a single tier holding announce, otherwise nil. Empty URLs and empty tiers are
// dropped.
func (m *MetaInfo) Trackers() [][]string {
	var tiers [][]string
	for _, tier := range m.AnnounceList {
		var t []string
		for _, u := range tier {
			if u != "" {
				t = append(t, u)
			}
		}
		if len(t) > 0 {
			tiers = append(tiers, t)
		}
	}
	if len(tiers) == 0 && m.Announce != "" {
		tiers = [][]string{{m.Announce}}
	}
	return tiers
}
