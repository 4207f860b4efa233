package metainfo

import (
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrMagnet means a string is not a usable BitTorrent magnet link.
var ErrMagnet = errors.New("metainfo: bad magnet link")

// maxMagnetLen caps the magnet links we parse.
const maxMagnetLen = 64 << 10

// Magnet is a parsed BEP 9 magnet link: enough to find peers and fetch the info dictionary.
type Magnet struct {
	InfoHash Hash
	// Name is the display name (dn), possibly empty.
	Name string
	// Trackers are the tr URLs in link order.
	Trackers []string
	// WebSeeds are the ws URLs (BEP 19).
	WebSeeds []string
	// Peers are x.pe peer addresses ("host:port").
	Peers []string
}

// String encodes the link as magnet:?xt=urn:btih:<hex>&dn=...&tr=...&ws=...&x.pe=...
func (mg Magnet) String() string {
	var b strings.Builder
	b.WriteString("magnet:?xt=urn:btih:")
	b.WriteString(mg.InfoHash.String())
	add := func(key, val string) {
		b.WriteString("&" + key + "=")
		b.WriteString(url.QueryEscape(val))
	}
	if mg.Name != "" {
		add("dn", mg.Name)
	}
	for _, t := range mg.Trackers {
		add("tr", t)
	}
	for _, w := range mg.WebSeeds {
		add("ws", w)
	}
	for _, p := range mg.Peers {
		add("x.pe", p)
	}
	return b.String()
}

// Magnet returns the torrent's magnet link: hex info-hash, name, every tracker of every tier
// (deduplicated, in tier order) and the web seeds.
func (m *MetaInfo) Magnet() string {
	mg := Magnet{InfoHash: m.InfoHash, Name: m.Info.Name, WebSeeds: m.URLList}
	seen := map[string]bool{}
	for _, tier := range m.Trackers() {
		for _, u := range tier {
			if !seen[u] {
				seen[u] = true
				mg.Trackers = append(mg.Trackers, u)
			}
		}
	}
	return mg.String()
}

// ParseMagnet parses a magnet link whose xt is urn:btih: with a 40-character hex or
// 32-character base32 info-hash. Links that only carry a v2 (btmh) hash are refused.
func ParseMagnet(s string) (Magnet, error) {
	var mg Magnet
	if len(s) > maxMagnetLen {
		return mg, fmt.Errorf("%w: %d bytes, limit %d", ErrMagnet, len(s), maxMagnetLen)
	}
	rest, ok := cutPrefixFold(s, "magnet:?")
	if !ok {
		return mg, fmt.Errorf("%w: does not start with magnet:?", ErrMagnet)
	}
	q, err := url.ParseQuery(rest)
	if err != nil {
		return mg, fmt.Errorf("%w: %v", ErrMagnet, err)
	}
	found := false
	for _, xt := range q["xt"] {
		if h, ok := cutPrefixFold(xt, "urn:btih:"); ok {
			if mg.InfoHash, err = parseBTIH(h); err != nil {
				return mg, err
			}
			found = true
			break
		}
	}
	if !found {
		return mg, fmt.Errorf("%w: no xt=urn:btih: info-hash", ErrMagnet)
	}
	mg.Name = q.Get("dn")
	mg.Trackers, mg.WebSeeds, mg.Peers = q["tr"], q["ws"], q["x.pe"]
	return mg, nil
}

// parseBTIH decodes a v1 info-hash in hex (40 characters) or base32 (32 characters).
func parseBTIH(s string) (Hash, error) {
	var h Hash
	var err error
	switch len(s) {
	case 2 * HashSize:
		_, err = hex.Decode(h[:], []byte(s))
	case 32:
		_, err = base32.StdEncoding.Decode(h[:], []byte(strings.ToUpper(s)))
	default:
		return h, fmt.Errorf("%w: btih %q: want 40 hex or 32 base32 characters", ErrMagnet, s)
	}
	if err != nil {
		return h, fmt.Errorf("%w: btih %q: %v", ErrMagnet, s, err)
	}
	return h, nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}
