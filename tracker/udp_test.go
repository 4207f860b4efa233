package tracker_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/tracker"
	"github.com/swarm-bt/swarm/tracker/trackertest"
	"github.com/swarm-bt/swarm/tracker/udpwire"
)

// startUDP serves srv over UDP on addr (port 0 picks one) until the test ends and returns the
// udp:// announce URL of its first socket.
func startUDP(t *testing.T, srv *tracker.Server, addr string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	conns, err := tracker.ListenUDP(ctx, addr, 1)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.ServeUDP(ctx, conns...) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return "udp://" + conns[0].LocalAddr().String() + "/announce"
}

func udpClient(t *testing.T, tiers ...[]string) *tracker.Client {
	t.Helper()
	c, err := tracker.NewClient(tracker.ClientConfig{
		Tiers: tiers, Rand: rand.New(rand.NewPCG(7, 7)), Logger: slog.New(slog.DiscardHandler),
		UDPTimeouts: []time.Duration{200 * time.Millisecond, 400 * time.Millisecond},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// A peer announced over UDP is handed to HTTP clients and the other way round, and a UDP
// scrape counts both.
func TestUDPAndHTTPShareSwarms(t *testing.T) {
	srv, _ := newTestServer(t, tracker.Config{Interval: 20 * time.Minute})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	udpURL := startUDP(t, srv, "127.0.0.1:0")
	uc, hc := udpClient(t, []string{udpURL}), udpClient(t, []string{hs.URL + "/announce"})
	h := trackertest.Hash(1)

	resp, err := uc.Announce(t.Context(), tracker.AnnounceRequest{InfoHash: h, PeerID: trackertest.ID(1), Port: 7001, Event: tracker.EventStarted})
	require.NoError(t, err)
	assert.Equal(t, udpURL, resp.Tracker)
	assert.Equal(t, 20*time.Minute, resp.Interval)
	assert.Equal(t, 1, resp.Complete)

	resp, err = hc.Announce(t.Context(), tracker.AnnounceRequest{InfoHash: h, PeerID: trackertest.ID(2), Port: 7002, Left: 5, Event: tracker.EventStarted})
	require.NoError(t, err)
	require.Len(t, resp.Peers, 1)
	assert.Equal(t, netip.MustParseAddrPort("127.0.0.1:7001"), resp.Peers[0].Addr, "HTTP gets the UDP peer")

	resp, err = uc.Announce(t.Context(), tracker.AnnounceRequest{InfoHash: h, PeerID: trackertest.ID(3), Port: 7003, Left: 5, NumWant: 10})
	require.NoError(t, err)
	assert.Equal(t, 1, resp.Complete)
	assert.Equal(t, 2, resp.Incomplete)
	var got []netip.AddrPort
	for _, p := range resp.Peers {
		got = append(got, p.Addr)
	}
	assert.ElementsMatch(t, []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:7001"), netip.MustParseAddrPort("127.0.0.1:7002")}, got, "UDP gets both")

	counts, err := uc.Scrape(t.Context(), h, trackertest.Hash(2))
	require.NoError(t, err)
	assert.Equal(t, map[metainfo.Hash]tracker.Counts{h: {Complete: 1, Incomplete: 2}, trackertest.Hash(2): {}}, counts)

	// One connect served all of that: the id is reused for a minute.
	assert.Contains(t, scrapeMetrics(t, hs.URL), "swarm_tracker_udp_connects_total 1\n")
	assert.Contains(t, scrapeMetrics(t, hs.URL), `swarm_tracker_announces_total{event="started"} 2`)
}

func scrapeMetrics(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// A scrape of 1,000 info-hashes goes out as 14 requests of at most 74 and comes back whole;
// the same 1,000 in one datagram is refused as too long.
func TestUDPScrapeThousand(t *testing.T) {
	srv, clk := newTestServer(t, tracker.Config{})
	udpURL := startUDP(t, srv, "127.0.0.1:0")
	hashes := make([]metainfo.Hash, 1000)
	for i := range hashes {
		hashes[i] = trackertest.Hash(i + 1)
		for j := range i % 3 {
			_, err := srv.Store().Put(t.Context(), tracker.PutRequest{InfoHash: hashes[i],
				Addr: netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(1000+j)), Seeder: true, Now: clk.Now()}, nil)
			require.NoError(t, err)
		}
	}
	counts, err := udpClient(t, []string{udpURL}).Scrape(t.Context(), hashes...)
	require.NoError(t, err)
	require.Len(t, counts, 1000)
	for i, h := range hashes {
		require.Equal(t, tracker.Counts{Complete: i % 3}, counts[h], "hash %d", i)
	}

	conn := rawConn(t, udpURL)
	id := rawConnect(t, conn)
	pkt := udpwire.AppendHeader(nil, udpwire.Header{ConnID: id, Action: udpwire.ActionScrape, TxID: 9})
	for _, h := range hashes {
		pkt = append(pkt, h[:]...)
	}
	_, err = udpwire.ParseReply(rawExchange(t, conn, pkt), 9, udpwire.ActionScrape)
	var er *udpwire.ErrorReply
	require.ErrorAs(t, err, &er)
	assert.Equal(t, "packet too long", er.Message)
}

func rawConn(t *testing.T, udpURL string) *net.UDPConn {
	t.Helper()
	host := strings.TrimSuffix(strings.TrimPrefix(udpURL, "udp://"), "/announce")
	c, err := net.Dial("udp", host)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c.(*net.UDPConn)
}

func rawExchange(t *testing.T, c *net.UDPConn, pkt []byte) []byte {
	t.Helper()
	_, err := c.Write(pkt)
	require.NoError(t, err)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	require.NoError(t, err)
	return buf[:n]
}

func rawConnect(t *testing.T, c *net.UDPConn) uint64 {
	t.Helper()
	body, err := udpwire.ParseReply(rawExchange(t, c, udpwire.AppendConnect(nil, 1)), 1, udpwire.ActionConnect)
	require.NoError(t, err)
	id, err := udpwire.ParseConnectReply(body)
	require.NoError(t, err)
	return id
}

// IPv6 trackers: the client speaks to [::1] and gets 18-byte peers.
func TestUDPIPv6(t *testing.T) {
	if ln, err := net.ListenPacket("udp6", "[::1]:0"); err != nil {
		if os.Getenv("SWARM_STRICT") == "1" {
			t.Fatalf("SWARM_STRICT=1 but no IPv6 loopback: %v", err)
		}
		t.Skipf("no IPv6 loopback: %v", err)
	} else {
		_ = ln.Close()
	}
	srv, _ := newTestServer(t, tracker.Config{})
	udpURL := startUDP(t, srv, "[::1]:0")
	c := udpClient(t, []string{udpURL})
	h := trackertest.Hash(6)
	_, err := c.Announce(t.Context(), tracker.AnnounceRequest{InfoHash: h, PeerID: trackertest.ID(1), Port: 7001})
	require.NoError(t, err)
	resp, err := c.Announce(t.Context(), tracker.AnnounceRequest{InfoHash: h, PeerID: trackertest.ID(2), Port: 7002, Left: 1})
	require.NoError(t, err)
	require.Len(t, resp.Peers, 1)
	assert.Equal(t, netip.MustParseAddrPort("[::1]:7001"), resp.Peers[0].Addr)
}

// fakeUDPTracker answers with handle (nil: stay silent) and records what it got.
type fakeUDPTracker struct {
	conn  *net.UDPConn
	mu    sync.Mutex
	pkts  [][]byte
	count atomic.Int32
}

func startFakeUDP(t *testing.T, handle func(n int, pkt []byte) []byte) (*fakeUDPTracker, string) {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	f := &fakeUDPTracker{conn: pc.(*net.UDPConn)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, from, err := f.conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			pkt := append([]byte(nil), buf[:n]...)
			f.mu.Lock()
			f.pkts = append(f.pkts, pkt)
			f.mu.Unlock()
			if reply := handle(int(f.count.Add(1)), pkt); reply != nil {
				_, _ = f.conn.WriteToUDPAddrPort(reply, from)
			}
		}
	}()
	t.Cleanup(func() { _ = f.conn.Close(); <-done })
	return f, "udp://" + f.conn.LocalAddr().String()
}

// The client resends a lost connect quickly and sends the URL's path and query (BEP 41).
func TestUDPClientRetriesAndURLData(t *testing.T) {
	f, base := startFakeUDP(t, func(n int, pkt []byte) []byte {
		h, _ := udpwire.ParseHeader(pkt)
		switch {
		case n == 1:
			return nil // the first connect is lost
		case h.Action == udpwire.ActionConnect:
			return udpwire.AppendConnectReply(nil, h.TxID, 99)
		case h.ConnID != 99:
			return udpwire.AppendError(nil, h.TxID, "bad id")
		}
		b := udpwire.AppendAnnounceReply(nil, h.TxID, 300, udpwire.Counts{Seeders: 2, Leechers: 3})
		return udpwire.AppendPeer(b, netip.MustParseAddrPort("10.1.1.1:6881"))
	})
	c := udpClient(t, []string{base + "/announce?passkey=s3cret"})
	resp, err := c.Announce(t.Context(), tracker.AnnounceRequest{InfoHash: trackertest.Hash(1), PeerID: trackertest.ID(1), Port: 7001, Left: 9, NumWant: 30, Event: tracker.EventStarted})
	require.NoError(t, err)
	assert.Equal(t, 5*time.Minute, resp.Interval)
	assert.Equal(t, 2, resp.Complete)
	assert.Equal(t, 3, resp.Incomplete)
	assert.Equal(t, []tracker.Peer{{Addr: netip.MustParseAddrPort("10.1.1.1:6881")}}, resp.Peers)

	f.mu.Lock()
	defer f.mu.Unlock()
	require.Len(t, f.pkts, 3, "connect, connect again, announce")
	var a udpwire.Announce
	require.NoError(t, udpwire.ParseAnnounce(f.pkts[2], &a, nil))
	assert.Equal(t, "/announce?passkey=s3cret", string(a.URLData))
	assert.Equal(t, udpwire.EventStarted, a.Event)
	assert.Equal(t, int32(30), a.NumWant)
	assert.Equal(t, int64(9), a.Left)
	assert.Equal(t, uint16(7001), a.Port)
}

// An error reply is a *FailureError, as a failure reason is over HTTP.
func TestUDPClientErrorReply(t *testing.T) {
	_, base := startFakeUDP(t, func(_ int, pkt []byte) []byte {
		h, _ := udpwire.ParseHeader(pkt)
		if h.Action == udpwire.ActionConnect {
			return udpwire.AppendConnectReply(nil, h.TxID, 5)
		}
		return udpwire.AppendError(nil, h.TxID, "info_hash not allowed")
	})
	_, err := udpClient(t, []string{base}).Announce(t.Context(), tracker.AnnounceRequest{InfoHash: trackertest.Hash(1), Port: 1})
	fe, ok := errors.AsType[*tracker.FailureError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, "info_hash not allowed", fe.Reason)
	assert.Equal(t, base, fe.Tracker)
}

// A silent UDP tracker in the first tier is given up after the client's tries and the HTTP
// tracker of the second tier answers; a UDP port nobody listens on fails at once.
func TestUDPDeadFirstTier(t *testing.T) {
	silent, silentURL := startFakeUDP(t, func(int, []byte) []byte { return nil })
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	closedURL := "udp://" + pc.LocalAddr().String() + "/announce"
	require.NoError(t, pc.Close())
	srv, _ := newTestServer(t, tracker.Config{})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)

	for _, dead := range []string{silentURL, closedURL} {
		c := udpClient(t, []string{dead}, []string{hs.URL + "/announce"})
		for range 3 {
			resp, err := c.Announce(t.Context(), tracker.AnnounceRequest{InfoHash: trackertest.Hash(1), PeerID: trackertest.ID(1), Port: 7001})
			require.NoError(t, err)
			assert.Equal(t, hs.URL+"/announce", resp.Tracker)
		}
	}
	assert.Equal(t, int32(2), silent.count.Load(), "one connect per try, then the silent tracker rests")
}

// A client announcing through a socket bound to every interface gets its reply from the
// address it asked (its connected socket would drop any other).
func TestUDPWildcardBindAnswersFromAskedAddress(t *testing.T) {
	srv, _ := newTestServer(t, tracker.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	conns, err := tracker.ListenUDP(ctx, "0.0.0.0:0", 1)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.ServeUDP(ctx, conns...) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	var port int
	var bound []string
	for _, c := range conns {
		a := c.LocalAddr().(*net.UDPAddr)
		port = a.Port
		bound = append(bound, a.IP.String())
	}
	assert.Contains(t, bound, "127.0.0.1", "loopback is one of the bound addresses")
	c := udpClient(t, []string{fmt.Sprintf("udp://127.0.0.1:%d", port)})
	_, err = c.Announce(t.Context(), tracker.AnnounceRequest{InfoHash: trackertest.Hash(1), PeerID: trackertest.ID(1), Port: 7001})
	require.NoError(t, err)
}

// Two SO_REUSEPORT sockets share one port; clients spread over them are all answered.
func TestUDPReusePort(t *testing.T) {
	srv, _ := newTestServer(t, tracker.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	conns, err := tracker.ListenUDP(ctx, "127.0.0.1:0", 2)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.ServeUDP(ctx, conns...) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	if len(conns) == 1 {
		t.Skip("SO_REUSEPORT is Linux only here")
	}
	require.Len(t, conns, 2)
	assert.Equal(t, conns[0].LocalAddr().String(), conns[1].LocalAddr().String())
	u := "udp://" + conns[0].LocalAddr().String()
	for i := range 16 {
		c := udpClient(t, []string{u})
		_, err := c.Announce(t.Context(), tracker.AnnounceRequest{InfoHash: trackertest.Hash(1), PeerID: trackertest.ID(i), Port: uint16(7000 + i)})
		require.NoError(t, err)
	}
	assert.Equal(t, 16, scrapeOne(t, srv, trackertest.Hash(1)).Complete)
}

// UDPLocalAddr picks the source address, which is where a UDP tracker lists the peer.
func TestUDPClientLocalAddr(t *testing.T) {
	srv, _ := newTestServer(t, tracker.Config{})
	u := startUDP(t, srv, "127.0.0.1:0")
	c, err := tracker.NewClient(tracker.ClientConfig{Tiers: [][]string{{u}}, UDPLocalAddr: netip.MustParseAddr("127.0.0.5")})
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Announce(t.Context(), tracker.AnnounceRequest{InfoHash: trackertest.Hash(1), PeerID: trackertest.ID(1), Port: 7001})
	require.NoError(t, err)
	resp, err := udpClient(t, []string{u}).Announce(t.Context(), tracker.AnnounceRequest{InfoHash: trackertest.Hash(1), PeerID: trackertest.ID(2), Port: 7002, Left: 1})
	require.NoError(t, err)
	require.Len(t, resp.Peers, 1)
	assert.Equal(t, netip.MustParseAddrPort("127.0.0.5:7001"), resp.Peers[0].Addr)
}

// A tracker that restarted drops requests with the id it gave before, silently: the client
// tries its cached id once, then connects again, within the same announce.
func TestUDPClientReconnectsAfterTrackerRestart(t *testing.T) {
	var restarted atomic.Bool
	f, u := startFakeUDP(t, func(_ int, pkt []byte) []byte {
		h, _ := udpwire.ParseHeader(pkt)
		id := uint64(1)
		if restarted.Load() {
			id = 2
		}
		switch {
		case h.Action == udpwire.ActionConnect:
			return udpwire.AppendConnectReply(nil, h.TxID, id)
		case h.ConnID != id:
			return nil
		}
		return udpwire.AppendAnnounceReply(nil, h.TxID, 60, udpwire.Counts{Seeders: uint32(id)})
	})
	c := udpClient(t, []string{u})
	req := tracker.AnnounceRequest{InfoHash: trackertest.Hash(1), PeerID: trackertest.ID(1), Port: 7001}
	resp, err := c.Announce(t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, 1, resp.Complete)
	restarted.Store(true)
	resp, err = c.Announce(t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, 2, resp.Complete, "answered under the new id")

	f.mu.Lock()
	defer f.mu.Unlock()
	var got []string
	for _, p := range f.pkts {
		h, _ := udpwire.ParseHeader(p)
		got = append(got, fmt.Sprintf("%d/%d", h.Action, h.ConnID&0xff))
	}
	assert.Equal(t, []string{"0/128", "1/1", "1/1", "0/128", "1/2"}, got,
		"connect, announce, the stale id once, connect, announce")
}
