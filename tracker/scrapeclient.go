package tracker

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/swarm-bt/swarm/metainfo"
)

// ErrNoScrape means a tracker URL has no scrape counterpart (BEP 48: the last path segment
// must start with "announce").
var ErrNoScrape = errors.New("tracker: no scrape url for this tracker")

// ScrapeURL derives the scrape URL from an announce URL by the BEP 48 convention:
// ".../announce?x" becomes ".../scrape?x".
func ScrapeURL(announceURL string) (string, error) {
	u, err := url.Parse(announceURL)
	if err != nil {
		return "", fmt.Errorf("tracker url %q: %w", announceURL, err)
	}
	i := strings.LastIndexByte(u.Path, '/')
	if i < 0 || !strings.HasPrefix(u.Path[i+1:], "announce") {
		return "", fmt.Errorf("%w: %s", ErrNoScrape, announceURL)
	}
	u.Path = u.Path[:i+1] + "scrape" + strings.TrimPrefix(u.Path[i+1:], "announce")
	u.RawPath = ""
	return u.String(), nil
}

// Scrape asks the first tracker that answers, in tier order, for the counts of hashes.
// Swarms the tracker does not report are missing from the map.
func (c *Client) Scrape(ctx context.Context, hashes ...metainfo.Hash) (map[metainfo.Hash]Counts, error) {
	var out map[metainfo.Hash]Counts
	err := c.eachTracker(ctx, func(u string) error {
		var err error
		out, err = c.ScrapeFrom(ctx, u, hashes...)
		return err
	})
	return out, err
}

// ScrapeFrom scrapes one tracker given by its announce URL.
func (c *Client) ScrapeFrom(ctx context.Context, announceURL string, hashes ...metainfo.Hash) (map[metainfo.Hash]Counts, error) {
	if isUDPURL(announceURL) {
		return c.udpScrape(ctx, announceURL, hashes)
	}
	su, err := ScrapeURL(announceURL)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(su)
	if err != nil {
		return nil, fmt.Errorf("scrape url %q: %w", su, err)
	}
	var q strings.Builder
	q.WriteString(u.RawQuery)
	for _, h := range hashes {
		if q.Len() > 0 {
			q.WriteByte('&')
		}
		q.WriteString("info_hash=" + EscapeBytes(h[:]))
	}
	u.RawQuery = q.String()
	body, err := c.get(ctx, u.String())
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", Redact(su), err)
	}
	out, err := parseScrapeReply(body)
	if fe, ok := errors.AsType[*FailureError](err); ok {
		fe.Tracker = su
		return nil, fe
	}
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", Redact(su), err)
	}
	return out, nil
}

type rawScrape struct {
	Failure *string `bencode:"failure reason"`
	Files   map[string]struct {
		Complete   int64 `bencode:"complete"`
		Incomplete int64 `bencode:"incomplete"`
		Downloaded int64 `bencode:"downloaded"`
	} `bencode:"files"`
}

func parseScrapeReply(body []byte) (map[metainfo.Hash]Counts, error) {
	var r rawScrape
	if err := decodeBencode(body, &r); err != nil {
		return nil, fmt.Errorf("decode reply: %w", err)
	}
	if r.Failure != nil {
		return nil, &FailureError{Reason: *r.Failure}
	}
	out := make(map[metainfo.Hash]Counts, len(r.Files))
	for k, f := range r.Files {
		if len(k) != metainfo.HashSize || f.Complete < 0 || f.Incomplete < 0 || f.Downloaded < 0 {
			continue
		}
		out[metainfo.Hash([]byte(k))] = Counts{
			Complete: int(min(f.Complete, 1<<31)), Incomplete: int(min(f.Incomplete, 1<<31)),
			Downloaded: int(min(f.Downloaded, 1<<31)),
		}
	}
	return out, nil
}
