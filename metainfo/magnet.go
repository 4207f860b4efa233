package metainfo

import (
	"crypto/sha1"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
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

// ParseMagnet parses a magnet link (BEP 9) whose xt is urn:btih: with a 40-character hex or
// 32-character base32 info-hash, and its dn, every tr (http, https or udp trackers), every ws
// (http or https web seeds) and every x.pe (host:port, port not 0). A hybrid link's urn:btmh:
// is skipped; a link that only carries a v2 (btmh) hash is refused. Unknown parameters are
// ignored, as other clients do. Every error matches ErrMagnet and names the bad parameter.
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
	if mg.InfoHash, err = magnetHash(q["xt"]); err != nil {
		return mg, err
	}
	if dn := q["dn"]; len(dn) > 0 {
		mg.Name = dn[0]
	}
	if mg.Trackers, err = magnetURLs("tr", q["tr"], "http", "https", "udp"); err != nil {
		return mg, err
	}
	if mg.WebSeeds, err = magnetURLs("ws", q["ws"], "http", "https"); err != nil {
		return mg, err
	}
	for _, pe := range q["x.pe"] {
		if err := checkPeerAddr(pe); err != nil {
			return mg, fmt.Errorf("%w: x.pe %q: %v", ErrMagnet, pe, err)
		}
		mg.Peers = append(mg.Peers, pe)
	}
	return mg, nil
}

// magnetHash finds the v1 info-hash among the xt values.
func magnetHash(xts []string) (Hash, error) {
	v2 := false
	for _, xt := range xts {
		if h, ok := cutPrefixFold(xt, "urn:btih:"); ok {
			return parseBTIH(h)
		}
		if _, ok := cutPrefixFold(xt, "urn:btmh:"); ok {
			v2 = true
		}
	}
	if v2 {
		return Hash{}, fmt.Errorf("%w: xt: only a v2 info-hash (urn:btmh:), and BitTorrent v2 is not supported: need xt=urn:btih:", ErrMagnet)
	}
	if len(xts) > 0 {
		return Hash{}, fmt.Errorf("%w: xt %q: not urn:btih:", ErrMagnet, xts[0])
	}
	return Hash{}, fmt.Errorf("%w: no xt=urn:btih: info-hash", ErrMagnet)
}

// magnetURLs checks the URLs of parameter key, which must use one of schemes and have a host.
func magnetURLs(key string, vals []string, schemes ...string) ([]string, error) {
	for _, v := range vals {
		u, err := url.Parse(v)
		if err != nil {
			return nil, fmt.Errorf("%w: %s %q: %v", ErrMagnet, key, v, err)
		}
		if !slices.Contains(schemes, strings.ToLower(u.Scheme)) || u.Host == "" {
			return nil, fmt.Errorf("%w: %s %q: want a %s URL", ErrMagnet, key, v, strings.Join(schemes, ", "))
		}
	}
	return vals, nil
}

// checkPeerAddr checks an x.pe value: host:port with a port from 1 to 65535.
func checkPeerAddr(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return errors.New("want host:port")
	}
	if host == "" {
		return errors.New("no host")
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return fmt.Errorf("bad port %q", port)
	}
	return nil
}

// PeerAddrs returns the x.pe peers given as IP:port (host names are left out: callers that
// resolve names use Peers).
func (mg Magnet) PeerAddrs() []netip.AddrPort {
	var out []netip.AddrPort
	for _, pe := range mg.Peers {
		if ap, err := netip.ParseAddrPort(pe); err == nil && ap.Port() != 0 {
			out = append(out, ap)
		}
	}
	return out
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

// FromMagnet makes the torrent of a magnet link whose info dictionary was fetched from peers:
// info must hash to the link's info-hash (ErrMagnet otherwise) and parse as an info
// dictionary. The link's trackers become one tier each, its web seeds the url-list.
func FromMagnet(mg Magnet, info []byte) (*MetaInfo, error) {
	if Hash(sha1.Sum(info)) != mg.InfoHash {
		return nil, fmt.Errorf("%w: info dictionary does not match the info-hash %s", ErrMagnet, mg.InfoHash)
	}
	m := &MetaInfo{URLList: mg.WebSeeds, InfoBytes: info, InfoHash: mg.InfoHash}
	for _, tr := range mg.Trackers {
		m.AnnounceList = append(m.AnnounceList, []string{tr})
	}
	if len(mg.Trackers) > 0 {
		m.Announce = mg.Trackers[0]
	}
	if err := m.Info.parse(info); err != nil {
		return nil, err
	}
	return m, nil
}
