package tracker

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/tracker/udpwire"
)

// DefaultUDPTimeouts is how long the client waits for each try of a UDP request before
// sending it again. BEP 15's 15*2^n seconds is meant for long outages and would stall an
// interactive download behind one dead tracker for a minute or more; like libtorrent, the
// first retries come quickly, and a tracker that stays silent is given up after their sum so
// that the next tier is tried. Longer outages are the announce loop's backoff.
var DefaultUDPTimeouts = []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}

// udpConnIDReuse is how long a connection id is used (BEP 15: one minute).
const udpConnIDReuse = time.Minute

// udpReplyMax is the client's receive buffer: far more than an announce reply of 200 peers.
const udpReplyMax = 16 << 10

// errUDPTimeout means every try of a UDP request went unanswered.
var errUDPTimeout = errors.New("tracker: no reply from udp tracker")

// udpTracker is the client's state for one udp:// URL: one connected socket (so the source
// port, which the tracker's connection id may be bound to, stays the same, and the kernel
// drops datagrams from any other address) and the current connection id. Its mutex
// serialises requests: one exchange at a time per tracker.
type udpTracker struct {
	host    string // host:port
	urlData []byte // BEP 41: path and query of the URL

	mu     sync.Mutex
	conn   *net.UDPConn
	ipv6   bool
	connID uint64
	connAt time.Time
	buf    []byte
	// A tracker that did not answer is skipped until resting ends (15 s, doubling up to
	// 30 minutes), so that later announces go straight to the next tier.
	silent  int
	resting time.Time
}

// errUDPResting means the tracker is skipped for a while after going unanswered.
var errUDPResting = errors.New("tracker: udp tracker silent, skipped for a while")

// udpTrackerFor returns the state of the udp:// tracker u, creating it on first use.
func (c *Client) udpTrackerFor(u string) (*udpTracker, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.udp[u]; t != nil {
		return t, nil
	}
	pu, err := url.Parse(u)
	if err != nil {
		return nil, fmt.Errorf("tracker url %q: %w", u, err)
	}
	if pu.Port() == "" {
		return nil, fmt.Errorf("tracker url %q: udp tracker needs a port", u)
	}
	t := &udpTracker{host: pu.Host, buf: make([]byte, udpReplyMax)}
	if pu.Path != "" || pu.RawQuery != "" {
		t.urlData = []byte(pu.RequestURI())
	}
	if c.udp == nil {
		c.udp = map[string]*udpTracker{}
	}
	c.udp[u] = t
	return t, nil
}

// txID draws an unpredictable transaction id, so that an off-path attacker cannot forge
// replies.
func (c *Client) txID() uint32 {
	c.rngMu.Lock()
	defer c.rngMu.Unlock()
	return c.rng.Uint32()
}

// udpAnnounce announces to one udp:// tracker (BEP 15).
func (c *Client) udpAnnounce(ctx context.Context, u string, req AnnounceRequest) (AnnounceResponse, error) {
	t, err := c.udpTrackerFor(u)
	if err != nil {
		return AnnounceResponse{}, err
	}
	a := udpwire.Announce{
		InfoHash: req.InfoHash, PeerID: req.PeerID, Downloaded: req.Downloaded, Left: req.Left,
		Uploaded: req.Uploaded, Event: wireEvent(req.Event), Key: c.keyNum, NumWant: -1,
		Port: req.Port, URLData: t.urlData,
	}
	if req.NumWant > 0 {
		a.NumWant = int32(min(req.NumWant, 1<<30))
	}
	var resp AnnounceResponse
	err = t.exchange(ctx, c, udpwire.ActionAnnounce, func(b []byte, connID uint64, tx uint32) []byte {
		return udpwire.AppendAnnounce(b, connID, tx, &a)
	}, func(body []byte, ipv6 bool) error {
		r, err := udpwire.ParseAnnounceReply(body)
		if err != nil {
			// opentracker answers so for an info-hash it does not serve
			return fmt.Errorf("announce reply of %d bytes: %w", len(body)+udpwire.ReplyHeaderSize, err)
		}
		resp = AnnounceResponse{
			Tracker: u, Interval: secondsClamped(int64(r.Interval)),
			Complete: int(min(r.Seeders, 1<<31-1)), Incomplete: int(min(r.Leechers, 1<<31-1)),
		}
		addrs, err := udpwire.AppendPeers(nil, r.Peers, ipv6)
		if err != nil {
			return err
		}
		for _, ap := range addrs {
			resp.Peers = append(resp.Peers, Peer{Addr: ap})
		}
		return nil
	})
	if err != nil {
		return AnnounceResponse{}, udpError("announce to", u, err)
	}
	return resp, nil
}

// udpScrape scrapes one udp:// tracker, MaxScrapeHashes per request.
func (c *Client) udpScrape(ctx context.Context, u string, hashes []metainfo.Hash) (map[metainfo.Hash]Counts, error) {
	t, err := c.udpTrackerFor(u)
	if err != nil {
		return nil, err
	}
	out := make(map[metainfo.Hash]Counts, len(hashes))
	for len(hashes) > 0 {
		chunk := hashes[:min(len(hashes), udpwire.MaxScrapeHashes)]
		hashes = hashes[len(chunk):]
		err := t.exchange(ctx, c, udpwire.ActionScrape, func(b []byte, connID uint64, tx uint32) []byte {
			b = udpwire.AppendHeader(b, udpwire.Header{ConnID: connID, Action: udpwire.ActionScrape, TxID: tx})
			for _, h := range chunk {
				b = append(b, h[:]...)
			}
			return b
		}, func(body []byte, _ bool) error {
			cs, err := udpwire.ParseScrapeReply(nil, body)
			if err != nil {
				return err
			}
			for i, cnt := range cs[:min(len(cs), len(chunk))] {
				out[chunk[i]] = Counts{Complete: int(min(cnt.Seeders, 1<<31-1)),
					Incomplete: int(min(cnt.Leechers, 1<<31-1)), Downloaded: int(min(cnt.Completed, 1<<31-1))}
			}
			return nil
		})
		if err != nil {
			return nil, udpError("scrape", u, err)
		}
	}
	return out, nil
}

// udpError wraps err; a tracker's error message becomes a *FailureError, as over HTTP.
func udpError(op, u string, err error) error {
	if er, ok := errors.AsType[*udpwire.ErrorReply](err); ok {
		return &FailureError{Tracker: u, Reason: er.Message}
	}
	return fmt.Errorf("%s %s: %w", op, Redact(u), err)
}

// exchange sends one request, connecting first when the connection id is missing or older
// than a minute, and hands the reply body to parse. Each try waits one of the client's UDP
// timeouts; a reply that is not ours (wrong transaction id) is ignored.
func (t *udpTracker) exchange(ctx context.Context, c *Client, action udpwire.Action,
	build func(b []byte, connID uint64, tx uint32) []byte, parse func(body []byte, ipv6 bool) error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if time.Now().Before(t.resting) {
		return errUDPResting
	}
	err := t.exchangeLocked(ctx, c, action, build, parse)
	switch {
	case err == nil:
		t.silent = 0
	case errors.Is(err, errUDPTimeout):
		t.silent++
		t.resting = time.Now().Add(min(15*time.Second<<min(t.silent-1, 7), 30*time.Minute))
	}
	return err
}

func (t *udpTracker) exchangeLocked(ctx context.Context, c *Client, action udpwire.Action,
	build func(b []byte, connID uint64, tx uint32) []byte, parse func(body []byte, ipv6 bool) error) error {
	if err := t.dial(ctx, c.udpLocal); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { _ = t.conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	request := func(b []byte, tx uint32) []byte { return build(b, t.connID, tx) }
	var body []byte
	var err error
	if time.Since(t.connAt) < udpConnIDReuse {
		// A tracker that restarted, or moved its key, drops requests with the id it gave
		// before without a word: after one quick try, connect again and retry in full.
		body, err = t.roundTrip(ctx, c, action, c.udpTimeouts[:1], request)
		if errors.Is(err, errUDPTimeout) {
			t.connAt = time.Time{}
		}
	}
	if time.Since(t.connAt) >= udpConnIDReuse {
		if err := t.connect(ctx, c); err != nil {
			return err
		}
		body, err = t.roundTrip(ctx, c, action, c.udpTimeouts, request)
	}
	if err != nil {
		var er *udpwire.ErrorReply
		if !errors.As(err, &er) {
			t.connAt = time.Time{} // reconnect next time: the tracker may have restarted
		}
		return err
	}
	return parse(body, t.ipv6)
}

func (t *udpTracker) connect(ctx context.Context, c *Client) error {
	body, err := t.roundTrip(ctx, c, udpwire.ActionConnect, c.udpTimeouts, udpwire.AppendConnect)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	id, err := udpwire.ParseConnectReply(body)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	t.connID, t.connAt = id, time.Now()
	return nil
}

// dial resolves the tracker and opens the socket if it is not open.
func (t *udpTracker) dial(ctx context.Context, local netip.Addr) error {
	if t.conn != nil {
		return nil
	}
	host, port, err := net.SplitHostPort(t.host)
	if err != nil {
		return fmt.Errorf("tracker address %q: %w", t.host, err)
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return fmt.Errorf("resolve %s: %w", host, cmpOr(err, errors.New("no address")))
	}
	ip := ips[0].Unmap()
	for _, a := range ips { // with a bind address, prefer the tracker's address of its family
		if local.IsValid() && a.Unmap().Is4() == local.Is4() {
			ip = a.Unmap()
			break
		}
	}
	var d net.Dialer
	if local.IsValid() && local.Is4() == ip.Is4() {
		d.LocalAddr = &net.UDPAddr{IP: local.AsSlice()}
	}
	conn, err := d.DialContext(ctx, "udp", net.JoinHostPort(ip.String(), port))
	if err != nil {
		return fmt.Errorf("dial %s: %w", t.host, err)
	}
	t.conn = conn.(*net.UDPConn)
	t.ipv6 = !ip.Is4()
	t.connAt = time.Time{}
	return nil
}

// roundTrip sends the request built for a fresh transaction id and waits for its reply,
// resending after each of waits.
func (t *udpTracker) roundTrip(ctx context.Context, c *Client, action udpwire.Action, waits []time.Duration, build func(b []byte, tx uint32) []byte) ([]byte, error) {
	tx := c.txID()
	pkt := build(make([]byte, 0, 128), tx)
	for _, wait := range waits {
		if _, err := t.conn.Write(pkt); err != nil {
			return nil, t.ioError(ctx, err)
		}
		deadline := time.Now().Add(wait)
		if err := t.conn.SetReadDeadline(deadline); err != nil {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		for {
			n, err := t.conn.Read(t.buf)
			if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil {
				break // next try
			}
			if err != nil {
				return nil, t.ioError(ctx, err)
			}
			body, err := udpwire.ParseReply(t.buf[:n], tx, action)
			if errors.Is(err, udpwire.ErrTransaction) || errors.Is(err, udpwire.ErrShort) {
				continue // a late reply to an earlier try, or noise
			}
			return body, err
		}
	}
	return nil, errUDPTimeout
}

// ioError prefers the context's error, and closes the socket after a hard error (an ICMP
// "port unreachable" shows up as ECONNREFUSED) so that the next request dials again.
func (t *udpTracker) ioError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	_ = t.conn.Close()
	t.conn = nil
	return err
}

// close releases the socket.
func (t *udpTracker) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.conn != nil {
		_ = t.conn.Close()
		t.conn = nil
	}
}

func wireEvent(e Event) udpwire.Event {
	switch e {
	case EventStarted:
		return udpwire.EventStarted
	case EventCompleted:
		return udpwire.EventCompleted
	case EventStopped:
		return udpwire.EventStopped
	}
	return udpwire.EventNone
}

// isUDPURL reports whether u is a udp:// tracker URL.
func isUDPURL(u string) bool { return len(u) > 6 && u[:6] == "udp://" }

// Close releases the client's UDP sockets. The client stays usable: a later UDP request
// opens its socket again.
func (c *Client) Close() error {
	c.mu.Lock()
	ts := make([]*udpTracker, 0, len(c.udp))
	for _, t := range c.udp {
		ts = append(ts, t)
	}
	c.mu.Unlock()
	for _, t := range ts {
		t.close()
	}
	return nil
}

func seed32(r *rand.Rand) [32]byte {
	var s [32]byte
	for i := 0; i < len(s); i += 8 {
		binary.LittleEndian.PutUint64(s[i:], r.Uint64())
	}
	return s
}
