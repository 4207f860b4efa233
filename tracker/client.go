package tracker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/swarm-bt/swarm/metainfo"
)

// DefaultMaxReplySize bounds a tracker reply: 200 compact peers take 1.2 kB, so 1 MiB is ample.
const DefaultMaxReplySize = 1 << 20

// ClientConfig configures a Client.
type ClientConfig struct {
	// Tiers is the BEP 12 announce-list (or one tier with the BEP 3 announce URL). Only
	// http, https and udp (BEP 15) URLs are used; others are skipped.
	Tiers [][]string
	// HTTPClient sends the requests; nil means a client with a 30 s timeout. Its redirect
	// policy is replaced by the Client's own (a few hops, http and https only, never from a
	// public tracker to a local address).
	HTTPClient *http.Client
	// Logger receives warnings; nil means slog.Default().
	Logger *slog.Logger
	// Rand shuffles each tier and draws the announce key; nil means a random seed.
	Rand *rand.Rand
	// MaxReplySize caps a reply body; 0 means DefaultMaxReplySize.
	MaxReplySize int64
	// UserAgent is sent with each request when set.
	UserAgent string
	// UDPTimeouts are the waits of the successive tries of a UDP request; nil means
	// DefaultUDPTimeouts.
	UDPTimeouts []time.Duration
	// UDPLocalAddr is the address UDP requests are sent from when it is of the tracker's
	// family (a UDP tracker lists the peer at the source address); invalid means any.
	UDPLocalAddr netip.Addr
}

// Client announces to and scrapes HTTP and UDP trackers, walking BEP 12 tiers: trackers are shuffled
// within their tier once, tried in order, tier after tier, and the tracker that answers moves
// to the front of its tier.
//
// Announce and Scrape make one attempt per tracker and do not sleep: retrying after an error
// is the caller's loop (peer.Swarm retries with backoff; Backoff helps other callers), and so
// is waiting Interval or MinInterval between announces. A UDP request is sent again after
// each of UDPTimeouts, quickly at first. A Client is safe for concurrent use; Close releases
// its UDP sockets.
type Client struct {
	hc          *http.Client
	log         *slog.Logger
	maxReply    int64
	ua          string
	key         string
	keyNum      uint32
	udpTimeouts []time.Duration
	udpLocal    netip.Addr

	rngMu sync.Mutex
	rng   *rand.Rand // transaction ids

	mu         sync.Mutex
	tiers      [][]string
	trackerIDs map[string]string      // BEP 3 "tracker id", sent back to the tracker that set it
	udp        map[string]*udpTracker // by URL
}

// NewClient returns a client for cfg. It returns ErrNoTrackers when no tier holds an http,
// https or udp URL.
func NewClient(cfg ClientConfig) (*Client, error) {
	r := cfg.Rand
	if r == nil {
		r = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	c := &Client{
		hc: cfg.HTTPClient, log: cfg.Logger, maxReply: cfg.MaxReplySize, ua: cfg.UserAgent,
		keyNum: r.Uint32(), trackerIDs: map[string]string{}, udpTimeouts: cfg.UDPTimeouts,
		udpLocal: cfg.UDPLocalAddr.Unmap(),
		rng:      rand.New(rand.NewChaCha8(seed32(r))),
	}
	c.key = fmt.Sprintf("%08x", c.keyNum)
	if len(c.udpTimeouts) == 0 {
		c.udpTimeouts = DefaultUDPTimeouts
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: 30 * time.Second}
	}
	c.hc = withRedirectPolicy(c.hc)
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.maxReply <= 0 {
		c.maxReply = DefaultMaxReplySize
	}
	for _, tier := range cfg.Tiers {
		var t []string
		for _, u := range tier {
			if strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") || isUDPURL(u) {
				t = append(t, u)
			}
		}
		r.Shuffle(len(t), func(i, j int) { t[i], t[j] = t[j], t[i] })
		if len(t) > 0 {
			c.tiers = append(c.tiers, t)
		}
	}
	if len(c.tiers) == 0 {
		return nil, ErrNoTrackers
	}
	return c, nil
}

// Tiers returns the current tier order (for logs and tests).
func (c *Client) Tiers() [][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([][]string, len(c.tiers))
	for i, t := range c.tiers {
		out[i] = append([]string(nil), t...)
	}
	return out
}

// AnnounceRequest is one announce (BEP 3).
type AnnounceRequest struct {
	InfoHash   metainfo.Hash
	PeerID     PeerID
	Port       uint16
	Uploaded   int64
	Downloaded int64
	Left       int64
	Event      Event
	// NumWant is how many peers to ask for; 0 leaves it to the tracker.
	NumWant int
}

// AnnounceResponse is a tracker's answer to an announce.
type AnnounceResponse struct {
	// Tracker is the URL that answered.
	Tracker     string
	Interval    time.Duration
	MinInterval time.Duration
	Complete    int
	Incomplete  int
	// Peers holds IPv4 and IPv6 peers; IDs are zero for compact replies.
	Peers []Peer
	// Warning is the tracker's "warning message", if any.
	Warning string
}

// Announce sends req to the first tracker that answers, in tier order. The error joins every
// tracker's error; a tracker's "failure reason" is a *FailureError.
func (c *Client) Announce(ctx context.Context, req AnnounceRequest) (AnnounceResponse, error) {
	var resp AnnounceResponse
	err := c.eachTracker(ctx, func(u string) error {
		var err error
		resp, err = c.AnnounceTo(ctx, u, req)
		return err
	})
	return resp, err
}

// eachTracker calls try on trackers in tier order until one succeeds, then moves that one to
// the front of its tier (BEP 12).
func (c *Client) eachTracker(ctx context.Context, try func(u string) error) error {
	var errs []error
	for ti, tier := range c.Tiers() {
		for _, u := range tier {
			err := try(u)
			if err == nil {
				c.promote(ti, u)
				return nil
			}
			c.log.Debug("tracker failed, trying the next", "tracker", Redact(u), "err", err)
			errs = append(errs, err)
			if ctx.Err() != nil {
				return errors.Join(errs...)
			}
		}
	}
	return errors.Join(errs...)
}

func (c *Client) promote(ti int, u string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tiers[ti]
	for i, v := range t {
		if v == u {
			copy(t[1:i+1], t[:i])
			t[0] = u
			return
		}
	}
}

// AnnounceTo announces to one tracker URL.
func (c *Client) AnnounceTo(ctx context.Context, announceURL string, req AnnounceRequest) (AnnounceResponse, error) {
	if isUDPURL(announceURL) {
		return c.udpAnnounce(ctx, announceURL, req)
	}
	c.mu.Lock()
	tid := c.trackerIDs[announceURL]
	c.mu.Unlock()
	u, err := buildAnnounceURL(announceURL, req, c.key, tid)
	if err != nil {
		return AnnounceResponse{}, err
	}
	body, err := c.get(ctx, u)
	if err != nil {
		return AnnounceResponse{}, fmt.Errorf("announce to %s: %w", Redact(announceURL), err)
	}
	resp, tid, err := parseAnnounceReply(body)
	var fe *FailureError
	if errors.As(err, &fe) {
		fe.Tracker = announceURL
		return AnnounceResponse{}, fe
	}
	if err != nil {
		return AnnounceResponse{}, fmt.Errorf("announce to %s: %w", Redact(announceURL), err)
	}
	if tid != "" {
		c.mu.Lock()
		c.trackerIDs[announceURL] = tid
		c.mu.Unlock()
	}
	resp.Tracker = announceURL
	if resp.Warning != "" {
		c.log.Warn("tracker warning", "tracker", Redact(announceURL), "warning", resp.Warning)
	}
	return resp, nil
}

// get fetches u and returns at most maxReply bytes of a 200 reply.
func (c *Client) get(ctx context.Context, u string) ([]byte, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if c.ua != "" {
		hreq.Header.Set("User-Agent", c.ua)
	}
	resp, err := c.hc.Do(hreq)
	if ue, ok := errors.AsType[*url.Error](err); ok {
		err = ue.Err // its message quotes u: our peer_id, key and any passkey
	}
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("http status %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxReply+1))
	if err != nil {
		return nil, fmt.Errorf("read reply: %w", err)
	}
	if int64(len(body)) > c.maxReply {
		return nil, fmt.Errorf("reply larger than %d bytes", c.maxReply)
	}
	return body, nil
}

// buildAnnounceURL appends the announce parameters to the tracker URL, keeping any query it
// already has (private trackers put a passkey there).
func buildAnnounceURL(announceURL string, req AnnounceRequest, key, trackerID string) (string, error) {
	u, err := url.Parse(announceURL)
	if err != nil {
		return "", fmt.Errorf("tracker url %q: %w", announceURL, err)
	}
	var b strings.Builder
	b.WriteString(u.RawQuery)
	if b.Len() > 0 {
		b.WriteByte('&')
	}
	fmt.Fprintf(&b, "info_hash=%s&peer_id=%s&port=%d&uploaded=%d&downloaded=%d&left=%d&compact=1&key=%s",
		EscapeBytes(req.InfoHash[:]), EscapeBytes(req.PeerID[:]), req.Port,
		req.Uploaded, req.Downloaded, req.Left, key)
	if req.Event != EventNone {
		b.WriteString("&event=" + req.Event.String())
	}
	if req.NumWant > 0 {
		fmt.Fprintf(&b, "&numwant=%d", req.NumWant)
	}
	if trackerID != "" {
		b.WriteString("&trackerid=" + url.QueryEscape(trackerID))
	}
	u.RawQuery = b.String()
	return u.String(), nil
}

// EscapeBytes percent-encodes raw bytes for a query: unreserved characters (RFC 3986) stay,
// every other byte becomes %XX. url.QueryEscape would turn spaces into '+', which some
// trackers do not decode in binary values.
func EscapeBytes(b []byte) string {
	const hexDigits = "0123456789ABCDEF"
	var s strings.Builder
	s.Grow(3 * len(b))
	for _, c := range b {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			s.WriteByte(c)
			continue
		}
		s.WriteByte('%')
		s.WriteByte(hexDigits[c>>4])
		s.WriteByte(hexDigits[c&15])
	}
	return s.String()
}
