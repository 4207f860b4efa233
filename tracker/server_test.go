package tracker_test

import (
	"cmp"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/tracker"
	"github.com/swarm-bt/swarm/tracker/trackertest"
)

// clock is a settable time source for servers under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestServer(t *testing.T, cfg tracker.Config) (*tracker.Server, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	cfg.Now = clk.Now
	cfg.Rand = rand.New(rand.NewPCG(1, 2))
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Interval == 0 {
		cfg.Interval = time.Minute
	}
	s, err := tracker.New(cfg)
	require.NoError(t, err)
	return s, clk
}

// ann describes one announce for the tests.
type ann struct {
	hash    metainfo.Hash
	peer    int
	port    int
	left    int
	event   string
	numwant int
	extra   string
	remote  string
	xff     string
}

func (a ann) query() string {
	v := url.Values{}
	v.Set("info_hash", string(a.hash[:]))
	id := trackertest.ID(a.peer)
	v.Set("peer_id", string(id[:]))
	v.Set("port", itoa(cmp.Or(a.port, 6881)))
	v.Set("uploaded", "0")
	v.Set("downloaded", "0")
	v.Set("left", itoa(a.left))
	if a.event != "" {
		v.Set("event", a.event)
	}
	if a.numwant != 0 {
		v.Set("numwant", itoa(a.numwant))
	}
	q := v.Encode()
	if a.extra != "" {
		q += "&" + a.extra
	}
	return q
}

func itoa(n int) string { return strconv.Itoa(n) }

func get(t *testing.T, h http.Handler, target, remote, xff string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.RemoteAddr = remote
	if r.RemoteAddr == "" {
		r.RemoteAddr = "192.0.2.1:50000"
	}
	if xff != "" {
		r.Header.Set("X-Forwarded-For", xff)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// reply is a decoded announce reply.
type reply struct {
	Failure     string        `bencode:"failure reason"`
	RetryIn     int           `bencode:"retry in"`
	Interval    int           `bencode:"interval"`
	MinInterval int           `bencode:"min interval"`
	Complete    int           `bencode:"complete"`
	Incomplete  int           `bencode:"incomplete"`
	Downloaded  int           `bencode:"downloaded"`
	Peers       bencode.Bytes `bencode:"peers"`
	Peers6      *string       `bencode:"peers6"`
}

func announce(t *testing.T, h http.Handler, a ann) reply {
	t.Helper()
	remote := a.remote
	if remote == "" {
		// Peers are their address: each test peer announces from its own.
		remote = netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, byte(2 + a.peer>>8), byte(a.peer)}), 50000).String()
	}
	w := get(t, h, "/announce?"+a.query(), remote, a.xff)
	require.Equal(t, http.StatusOK, w.Code)
	var r reply
	require.NoError(t, bencode.Unmarshal(w.Body.Bytes(), &r), w.Body.String())
	return r
}

// compactPeers decodes the compact "peers" string.
func compactPeers(t *testing.T, raw bencode.Bytes) []string {
	t.Helper()
	var s string
	require.NoError(t, bencode.Unmarshal(raw, &s))
	require.Zero(t, len(s)%6)
	var out []string
	for i := 0; i < len(s); i += 6 {
		port := uint16(s[i+4])<<8 | uint16(s[i+5])
		out = append(out, netip.AddrPortFrom(netip.AddrFrom4([4]byte([]byte(s[i:i+4]))), port).String())
	}
	return out
}
