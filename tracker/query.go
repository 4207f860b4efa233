package tracker

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/swarm-bt/swarm/metainfo"
)

// Request limits. A real announce has about a dozen parameters; scrapes name at most
// maxScrapeHashes torrents (opentracker allows 64).
const (
	maxQueryParams  = 100
	maxScrapeHashes = 64
	defaultNumWant  = 50
	maxNumWant      = 200
)

// Event is the event of an announce (BEP 3).
type Event uint8

// Announce events; EventNone is a regular re-announce.
const (
	EventNone Event = iota
	EventStarted
	EventCompleted
	EventStopped
)

// String returns the query value of the event ("" for none).
func (e Event) String() string {
	switch e {
	case EventStarted:
		return "started"
	case EventCompleted:
		return "completed"
	case EventStopped:
		return "stopped"
	}
	return ""
}

// announceQuery is a parsed, validated announce request: what a client sends (the same
// fields as the client side's AnnounceRequest) and how it wants the answer.
type announceQuery struct {
	AnnounceRequest
	Compact bool
}

// parseAnnounce parses a raw announce query (BEP 3, 23). Every problem is a *ClientError
// naming it; nothing is allocated from attacker-sent sizes.
func parseAnnounce(raw string) (announceQuery, error) {
	q := announceQuery{AnnounceRequest: AnnounceRequest{NumWant: defaultNumWant, Left: -1}, Compact: true}
	var haveHash, havePeer, havePort bool
	err := eachParam(raw, func(key, val string) error {
		var err error
		switch key {
		case "info_hash":
			if haveHash {
				// opentracker refuses this too: "the last one wins" would let a URL that
				// looks like one torrent announce another.
				return clientErrorf("duplicate info_hash")
			}
			haveHash = true
			err = decode20(q.InfoHash[:], val, "info_hash")
		case "peer_id":
			havePeer = true
			err = decode20(q.PeerID[:], val, "peer_id")
		case "port":
			havePort = true
			q.Port, err = parsePort(val)
		case "uploaded":
			q.Uploaded, err = parseCounter(val, key)
		case "downloaded":
			q.Downloaded, err = parseCounter(val, key)
		case "left":
			q.Left, err = parseCounter(val, key)
		case "event":
			q.Event, err = parseEvent(val)
		case "numwant":
			q.NumWant, err = parseNumWant(val)
		case "compact":
			q.Compact = val != "0"
		}
		return err
	})
	if err != nil {
		return q, err
	}
	switch {
	case !haveHash:
		return q, clientErrorf("missing info_hash")
	case !havePeer:
		return q, clientErrorf("missing peer_id")
	case !havePort:
		return q, clientErrorf("missing port")
	}
	return q, nil
}

// parseScrape returns the info_hash values of a scrape query; none means a full scrape.
func parseScrape(raw string) ([]metainfo.Hash, error) {
	var hs []metainfo.Hash
	err := eachParam(raw, func(key, val string) error {
		if key != "info_hash" {
			return nil
		}
		if len(hs) == maxScrapeHashes {
			return clientErrorf("too many info_hash values (at most %d)", maxScrapeHashes)
		}
		var h metainfo.Hash
		if err := decode20(h[:], val, "info_hash"); err != nil {
			return err
		}
		hs = append(hs, h)
		return nil
	})
	return hs, err
}

// eachParam calls fn for every key=value pair, in order, with the key unescaped and the value
// still escaped. It stops at the first error.
func eachParam(raw string, fn func(key, val string) error) error {
	for n := 0; raw != ""; n++ {
		if n == maxQueryParams {
			return clientErrorf("too many query parameters")
		}
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		key, val, _ := strings.Cut(pair, "=")
		if err := fn(unescape(key), val); err != nil {
			return err
		}
	}
	return nil
}

// unescape decodes a query component, returning "\x00bad" for malformed escapes so that no
// parameter name matches and no number parses.
func unescape(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	u, err := url.QueryUnescape(s)
	if err != nil {
		return "\x00bad"
	}
	return u
}

// decode20 URL-decodes exactly 20 raw bytes into dst without allocating.
func decode20(dst []byte, s, name string) error {
	n := 0
	for i := 0; i < len(s); i++ {
		if n == len(dst) {
			return clientErrorf("%s must be 20 bytes", name)
		}
		c := s[i]
		switch c {
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return clientErrorf("malformed escape in %s", name)
			}
			c = unhex(s[i+1])<<4 | unhex(s[i+2])
			i += 2
		case '+':
			c = ' '
		}
		dst[n] = c
		n++
	}
	if n != len(dst) {
		return clientErrorf("%s must be 20 bytes", name)
	}
	return nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

func parsePort(s string) (uint16, error) {
	p, err := strconv.ParseUint(unescape(s), 10, 16)
	if err != nil || p == 0 {
		return 0, clientErrorf("invalid port: want 1-65535")
	}
	return uint16(p), nil
}

func parseCounter(s, name string) (int64, error) {
	v, err := strconv.ParseInt(unescape(s), 10, 64)
	if err != nil || v < 0 {
		return 0, clientErrorf("invalid %s: want a non-negative integer", name)
	}
	return v, nil
}

func parseEvent(s string) (Event, error) {
	switch unescape(s) {
	case "", "empty":
		return EventNone, nil
	case "started":
		return EventStarted, nil
	case "completed":
		return EventCompleted, nil
	case "stopped":
		return EventStopped, nil
	}
	return 0, clientErrorf("unknown event: want started, completed, stopped or none")
}

// parseNumWant caps the request at maxNumWant; negative values (some clients send -1) mean
// the default.
func parseNumWant(s string) (int, error) {
	v, err := strconv.Atoi(unescape(s))
	switch {
	case err != nil:
		return 0, clientErrorf("invalid numwant: want an integer")
	case v < 0:
		return defaultNumWant, nil
	}
	return min(v, maxNumWant), nil
}
