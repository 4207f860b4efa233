package tracker

import (
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/tracker/udpwire"
)

var (
	udpT0     = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	udpAlice  = netip.MustParseAddrPort("127.0.0.2:40000")
	udpBob    = netip.MustParseAddrPort("127.0.0.3:40000")
	udpAlice6 = netip.MustParseAddrPort("[::1]:40000")
)

// udpHarness drives a worker's packet handler directly: no sockets, a settable clock.
type udpHarness struct {
	t   testing.TB
	s   *Server
	w   *udpWorker
	now time.Time
}

func newUDPHarness(t testing.TB, cfg Config) *udpHarness {
	t.Helper()
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.Rand = rand.New(rand.NewPCG(1, 2))
	if cfg.Interval == 0 {
		cfg.Interval = time.Minute
	}
	if cfg.RatePerIP == 0 {
		cfg.RatePerIP = -1
	}
	h := &udpHarness{t: t, now: udpT0}
	cfg.Now = func() time.Time { return h.now }
	s, err := New(cfg)
	require.NoError(t, err)
	h.s, h.w = s, newUDPWorker(s, s.udpInit(), nil)
	return h
}

// send hands one datagram from addr to the handler and returns the reply (nil: dropped).
func (h *udpHarness) send(addr netip.AddrPort, pkt []byte) []byte {
	m := udpMsg{buf: make([]byte, udpMaxPacket), addr: addr}
	m.n = copy(m.buf, pkt)
	m.trunc = len(pkt) > udpMaxPacket
	return h.w.handle(h.t.Context(), &m, nil, h.now)
}

func (h *udpHarness) connect(addr netip.AddrPort) uint64 {
	h.t.Helper()
	body, err := udpwire.ParseReply(h.send(addr, udpwire.AppendConnect(nil, 11)), 11, udpwire.ActionConnect)
	require.NoError(h.t, err)
	id, err := udpwire.ParseConnectReply(body)
	require.NoError(h.t, err)
	return id
}

func udpAnnounce(id uint64, peer byte, port uint16, left int64) []byte {
	return udpwire.AppendAnnounce(nil, id, 22, &udpwire.Announce{
		InfoHash: [20]byte{0xaa}, PeerID: [20]byte{peer}, Left: left, Port: port,
		Event: udpwire.EventStarted, NumWant: -1,
	})
}

func (h *udpHarness) dropped(reason string) float64 {
	return counterValue(h.w.u.dropped[reason])
}

func TestUDPConnectionIDs(t *testing.T) {
	h := newUDPHarness(t, Config{})
	id := h.connect(udpAlice)
	tests := []struct {
		name   string
		id     uint64
		from   netip.AddrPort
		after  time.Duration
		answer bool
	}{
		{"valid", id, udpAlice, 0, true},
		{"valid after two minutes", id, udpAlice, 2 * time.Minute, true},
		{"expired", id, udpAlice, 2*time.Minute + time.Second, false},
		{"expired a day later", id, udpAlice, 24 * time.Hour, false},
		{"after the 16-bit timestamp wraps", id, udpAlice, 65536 * time.Second, false},
		{"from another address", id, udpBob, 0, false},
		{"from another port", id, netip.AddrPortFrom(udpAlice.Addr(), 40001), 0, false},
		{"forged", id ^ 1, udpAlice, 0, false},
		{"forged timestamp", id + 1<<48, udpAlice, time.Second, false},
		{"protocol id", udpwire.ProtocolID, udpAlice, 0, false},
		{"zero", 0, udpAlice, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.now = udpT0.Add(tc.after)
			before := h.dropped("bad_connection_id")
			reply := h.send(tc.from, udpAnnounce(tc.id, 1, 6881, 0))
			if !tc.answer {
				assert.Nil(t, reply)
				assert.Equal(t, before+1, h.dropped("bad_connection_id"))
				return
			}
			_, err := udpwire.ParseReply(reply, 22, udpwire.ActionAnnounce)
			assert.NoError(t, err)
		})
	}
}

// Every prefix of every kind of request is answered sensibly or dropped, never a panic.
func TestUDPTruncatedPackets(t *testing.T) {
	h := newUDPHarness(t, Config{})
	id := h.connect(udpAlice)
	full := map[string][]byte{
		"connect":  udpwire.AppendConnect(nil, 1),
		"announce": udpAnnounce(id, 1, 6881, 0),
		"scrape":   udpwire.AppendScrape(nil, id, 3, [][20]byte{{1}, {2}}),
	}
	for name, pkt := range full {
		for n := range len(pkt) {
			reply := h.send(udpAlice, pkt[:n])
			switch {
			case n < udpwire.HeaderSize:
				assert.Nil(t, reply, "%s cut to %d bytes is dropped", name, n)
			case name == "connect":
				t.Fatalf("connect is %d bytes", len(pkt))
			case name == "scrape" && (n-udpwire.HeaderSize)%20 == 0 && n > udpwire.HeaderSize:
				_, err := udpwire.ParseReply(reply, h.txOf(pkt), udpwire.ActionScrape)
				assert.NoError(t, err, "a scrape of the hashes that are whole")
			default:
				// The id is valid, so the client is told what is wrong.
				_, err := udpwire.ParseReply(reply, h.txOf(pkt), udpwire.ActionScrape)
				var er *udpwire.ErrorReply
				assert.ErrorAs(t, err, &er, "%s cut to %d bytes", name, n)
			}
		}
	}
}

func (h *udpHarness) txOf(pkt []byte) uint32 {
	hd, err := udpwire.ParseHeader(pkt)
	require.NoError(h.t, err)
	return hd.TxID
}

func TestUDPUnknownActionsAndBadPackets(t *testing.T) {
	h := newUDPHarness(t, Config{})
	id := h.connect(udpAlice)
	tests := []struct {
		name   string
		pkt    []byte
		answer string // error message; "" means dropped
	}{
		{"error action", udpwire.AppendHeader(nil, udpwire.Header{ConnID: id, Action: udpwire.ActionError, TxID: 5}), "unknown action"},
		{"action 4", udpwire.AppendHeader(nil, udpwire.Header{ConnID: id, Action: 4, TxID: 5}), "unknown action"},
		{"action max", udpwire.AppendHeader(nil, udpwire.Header{ConnID: id, Action: 1<<32 - 1, TxID: 5}), "unknown action"},
		{"unknown action without an id", udpwire.AppendHeader(nil, udpwire.Header{ConnID: 7, Action: 9, TxID: 5}), ""},
		{"connect with a bad protocol id", udpwire.AppendHeader(nil, udpwire.Header{ConnID: 7, TxID: 5}), ""},
		{"connect too long", append(udpwire.AppendConnect(nil, 5), make([]byte, udpMaxPacket)...), ""},
		{"announce too long", append(udpAnnounce(id, 1, 1, 0), make([]byte, udpMaxPacket)...), "packet too long"},
		{"port 0", udpAnnounce(id, 1, 0, 0), "invalid port: want 1-65535"},
		{"event 9", func() []byte { b := udpAnnounce(id, 1, 1, 0); b[83] = 9; return b }(), "unknown event"},
		{"scrape ragged", append(udpwire.AppendScrape(nil, id, 5, [][20]byte{{1}}), 1, 2, 3), "scrape must hold 1 to 74 info-hashes"},
		{"scrape of 75", udpwire.AppendScrape(nil, id, 5, make([][20]byte, 75)), "scrape must hold 1 to 74 info-hashes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reply := h.send(udpAlice, tc.pkt)
			if tc.answer == "" {
				assert.Nil(t, reply)
				return
			}
			_, err := udpwire.ParseReply(reply, 5, udpwire.ActionAnnounce)
			if tc.name == "announce too long" || tc.name == "port 0" || tc.name == "event 9" {
				_, err = udpwire.ParseReply(reply, 22, udpwire.ActionAnnounce)
			}
			var er *udpwire.ErrorReply
			require.ErrorAs(t, err, &er)
			assert.Equal(t, tc.answer, er.Message)
		})
	}
}

func TestUDPAnnounceAndScrape(t *testing.T) {
	h := newUDPHarness(t, Config{})
	seed, leech, leech6 := h.connect(udpAlice), h.connect(udpBob), h.connect(udpAlice6)
	_, err := udpwire.ParseReply(h.send(udpAlice, udpAnnounce(seed, 1, 7001, 0)), 22, udpwire.ActionAnnounce)
	require.NoError(t, err)
	_, err = udpwire.ParseReply(h.send(udpAlice6, udpAnnounce(leech6, 3, 7003, 5)), 22, udpwire.ActionAnnounce)
	require.NoError(t, err)

	// An IPv4 leecher gets the IPv4 seeder in 6-byte form, not the IPv6 leecher.
	body, err := udpwire.ParseReply(h.send(udpBob, udpAnnounce(leech, 2, 7002, 10)), 22, udpwire.ActionAnnounce)
	require.NoError(t, err)
	r, err := udpwire.ParseAnnounceReply(body)
	require.NoError(t, err)
	assert.Equal(t, udpwire.AnnounceReply{Interval: 60, Seeders: 1, Leechers: 2, Peers: r.Peers}, r)
	peers, err := udpwire.AppendPeers(nil, r.Peers, false)
	require.NoError(t, err)
	assert.Equal(t, []netip.AddrPort{netip.MustParseAddrPort("127.0.0.2:7001")}, peers)

	// The IPv6 leecher gets the IPv4 ones filtered out: 18-byte entries only, none here.
	body, err = udpwire.ParseReply(h.send(udpAlice6, udpAnnounce(leech6, 3, 7003, 5)), 22, udpwire.ActionAnnounce)
	require.NoError(t, err)
	r, err = udpwire.ParseAnnounceReply(body)
	require.NoError(t, err)
	assert.Empty(t, r.Peers)

	body, err = udpwire.ParseReply(h.send(udpBob, udpwire.AppendScrape(nil, leech, 5, [][20]byte{{0xaa}, {0xbb}})), 5, udpwire.ActionScrape)
	require.NoError(t, err)
	cs, err := udpwire.ParseScrapeReply(nil, body)
	require.NoError(t, err)
	assert.Equal(t, []udpwire.Counts{{Seeders: 1, Leechers: 2}, {}}, cs)

	// stopped removes the peer.
	stop := udpwire.AppendAnnounce(nil, leech, 22, &udpwire.Announce{InfoHash: [20]byte{0xaa}, PeerID: [20]byte{2}, Port: 7002, Left: 10, Event: udpwire.EventStopped})
	body, err = udpwire.ParseReply(h.send(udpBob, stop), 22, udpwire.ActionAnnounce)
	require.NoError(t, err)
	r, err = udpwire.ParseAnnounceReply(body)
	require.NoError(t, err)
	assert.Equal(t, uint32(1), r.Leechers)
	assert.Equal(t, 1.0, counterValue(h.s.metrics.announces[EventStopped]))
	assert.Equal(t, 1.0, counterValue(h.s.metrics.scrapes))
}

func TestUDPAllowList(t *testing.T) {
	h := newUDPHarness(t, Config{Allow: AllowList{[20]byte{0xbb}: {}}.Contains})
	id := h.connect(udpAlice)
	_, err := udpwire.ParseReply(h.send(udpAlice, udpAnnounce(id, 1, 7001, 0)), 22, udpwire.ActionAnnounce)
	var er *udpwire.ErrorReply
	require.ErrorAs(t, err, &er)
	assert.Equal(t, errNotAllowed.Reason, er.Message)
	assert.Equal(t, 1.0, counterValue(h.s.metrics.failures("not_allowed")))
}

// A flood of announces from one address is refused once its bucket is empty; another address
// is still served, and connects (as cheap as the request) are still answered.
func TestUDPFloodFromOneAddress(t *testing.T) {
	h := newUDPHarness(t, Config{RatePerIP: 1, RateBurst: 5})
	id, other := h.connect(udpAlice), h.connect(udpBob)
	ok, limited := 0, 0
	for i := range 10_000 {
		_, err := udpwire.ParseReply(h.send(udpAlice, udpAnnounce(id, byte(i), 7001, 0)), 22, udpwire.ActionAnnounce)
		if er, isErr := err.(*udpwire.ErrorReply); isErr {
			require.Equal(t, errRateLimited.Reason, er.Message)
			limited++
			continue
		}
		require.NoError(t, err)
		ok++
	}
	assert.Equal(t, 5, ok)
	assert.Equal(t, 10_000-5, limited)
	_, err := udpwire.ParseReply(h.send(udpBob, udpAnnounce(other, 1, 7002, 0)), 22, udpwire.ActionAnnounce)
	assert.NoError(t, err, "another address is served")
	h.now = h.now.Add(time.Second)
	_, err = udpwire.ParseReply(h.send(udpAlice, udpAnnounce(id, 1, 7001, 0)), 22, udpwire.ActionAnnounce)
	assert.NoError(t, err, "the flooder gets a token back after a second")
}

func TestConnIDMinterKeysDiffer(t *testing.T) {
	var sc connIDScratch
	a, b := newConnIDMinterKey([16]byte{1}), newConnIDMinterKey([16]byte{2})
	assert.NotEqual(t, a.mint(&sc, udpAlice, udpT0), b.mint(&sc, udpAlice, udpT0))
	assert.False(t, b.valid(&sc, a.mint(&sc, udpAlice, udpT0), udpAlice, udpT0), "another process's id")
	assert.NotEqual(t, a.mint(&sc, udpAlice, udpT0), a.mint(&sc, udpAlice, udpT0.Add(time.Second)))
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

// FuzzUDPHandle sends arbitrary datagrams through the server's handler: it never panics, a
// reply always fits one packet, and without a valid connection id nothing but a 16-byte
// connect reply ever goes out (no amplification towards a spoofed source).
func FuzzUDPHandle(f *testing.F) {
	h := newUDPHarness(f, Config{})
	id := h.w.u.ids.mint(&h.w.sc, udpAlice, h.now)
	f.Add(udpwire.AppendConnect(nil, 1))
	f.Add(udpAnnounce(id, 1, 6881, 0))
	f.Add(append(udpAnnounce(id, 1, 6881, 0), 2, 9, '/', 'a', 'n', 'n', 'o', 'u', 'n', 'c', 'e'))
	f.Add(udpwire.AppendScrape(nil, id, 3, [][20]byte{{0xaa}, {1}}))
	f.Add(udpwire.AppendHeader(nil, udpwire.Header{ConnID: id, Action: 7, TxID: 3}))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		if len(pkt) > udpMaxPacket {
			pkt = pkt[:udpMaxPacket]
		}
		hd, herr := udpwire.ParseHeader(pkt)
		validID := herr == nil && h.w.u.ids.valid(&h.w.sc, hd.ConnID, udpAlice, h.now)
		m := udpMsg{buf: make([]byte, udpMaxPacket), addr: udpAlice}
		m.n = copy(m.buf, pkt)
		reply := h.w.handle(t.Context(), &m, nil, h.now)
		if len(reply) > 1472 {
			t.Fatalf("reply of %d bytes", len(reply))
		}
		if reply != nil && !validID && (len(reply) != 16 || hd.Action != udpwire.ActionConnect) {
			t.Fatalf("%d-byte reply to a request without a valid id", len(reply))
		}
	})
}

// failingConn is a batchConn whose reads always fail.
type failingConn struct{ reads int }

func (f *failingConn) readBatch([]udpMsg) (int, error) { f.reads++; return 0, errors.New("boom") }
func (f *failingConn) writeBatch([]udpMsg) error       { return nil }

func TestUDPLoopStopsOnPersistentReadErrors(t *testing.T) {
	h := newUDPHarness(t, Config{})
	fc := &failingConn{}
	w := newUDPWorker(h.s, h.w.u, fc)
	err := w.run(t.Context())
	require.ErrorContains(t, err, "boom")
	assert.Equal(t, udpMaxReadErrors, fc.reads)
}

// BEP 41: the URL data of an announce is parsed (options split at 255 bytes, NOPs, an end
// marker) and the announce answered as any other.
func TestUDPAnnounceURLData(t *testing.T) {
	h := newUDPHarness(t, Config{})
	id := h.connect(udpAlice)
	url := "/announce?passkey=" + strings.Repeat("k", 300)
	pkt := udpwire.AppendAnnounce(nil, id, 22, &udpwire.Announce{
		InfoHash: [20]byte{0xaa}, PeerID: [20]byte{1}, Port: 7001, NumWant: -1, URLData: []byte(url),
	})
	pkt = append(pkt[:udpwire.AnnounceSize], append([]byte{1, 1}, pkt[udpwire.AnnounceSize:]...)...) // two NOPs first
	_, err := udpwire.ParseReply(h.send(udpAlice, pkt), 22, udpwire.ActionAnnounce)
	require.NoError(t, err)
	assert.Equal(t, url, string(h.w.ann.URLData))
}
