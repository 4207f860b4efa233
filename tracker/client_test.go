package tracker_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/tracker"
	"github.com/swarm-bt/swarm/tracker/trackertest"
)

func newClient(t *testing.T, tiers ...[]string) *tracker.Client {
	t.Helper()
	c, err := tracker.NewClient(tracker.ClientConfig{Tiers: tiers, Rand: rand.New(rand.NewPCG(7, 7))})
	require.NoError(t, err)
	return c
}

// fixed serves one canned body and records the queries it saw.
func fixed(t *testing.T, body string) (*httptest.Server, *atomic.Value) {
	var last atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		last.Store(r.URL.RawQuery)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &last
}

func TestClientAgainstOurServer(t *testing.T) {
	s, _ := newTestServer(t, tracker.Config{Interval: 20 * time.Minute})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c := newClient(t, []string{srv.URL + "/announce"})
	h := metainfo.Hash([]byte("\x00 +%&=?#/\xff\x80abcdefghijk"))
	seeder := tracker.AnnounceRequest{InfoHash: h, PeerID: trackertest.ID(1), Port: 7001, Left: 0, Event: tracker.EventStarted}
	resp, err := c.Announce(t.Context(), seeder)
	require.NoError(t, err)
	assert.Equal(t, 20*time.Minute, resp.Interval)
	assert.Equal(t, 10*time.Minute, resp.MinInterval)
	assert.Equal(t, 1, resp.Complete)
	assert.Equal(t, srv.URL+"/announce", resp.Tracker)

	leecher := tracker.AnnounceRequest{InfoHash: h, PeerID: trackertest.ID(2), Port: 7002, Left: 10, Event: tracker.EventStarted, NumWant: 5}
	resp, err = c.Announce(t.Context(), leecher)
	require.NoError(t, err)
	require.Len(t, resp.Peers, 1)
	assert.Equal(t, netip.MustParseAddrPort("127.0.0.1:7001"), resp.Peers[0].Addr)

	counts, err := c.Scrape(t.Context(), h, trackertest.Hash(99))
	require.NoError(t, err)
	assert.Equal(t, tracker.Counts{Complete: 1, Incomplete: 1}, counts[h], "raw bytes survive escaping")
	assert.Equal(t, tracker.Counts{}, counts[trackertest.Hash(99)])
}

func TestClientQuery(t *testing.T) {
	srv, last := fixed(t, "d8:intervali60ee")
	c := newClient(t, []string{srv.URL + "/announce?passkey=abc"})
	h := metainfo.Hash([]byte("\x00\x01 ~.-_AZaz09\xfe\xff+/?&=%#!"))
	_, err := c.Announce(t.Context(), tracker.AnnounceRequest{InfoHash: h, PeerID: trackertest.ID(3), Port: 1, Left: 5, Event: tracker.EventCompleted, NumWant: 30})
	require.NoError(t, err)
	q := last.Load().(string)
	assert.True(t, strings.HasPrefix(q, "passkey=abc&info_hash=%00%01%20~.-_AZaz09%FE%FF%2B%2F%3F%26%3D&"), q)
	for _, want := range []string{"&port=1&", "&left=5&", "&compact=1&", "&event=completed", "&numwant=30", "&key="} {
		assert.Contains(t, q, want)
	}
}

func TestClientReplies(t *testing.T) {
	tests := []struct {
		name, body string
		want       tracker.AnnounceResponse
		errText    string
	}{
		{name: "compact v4 and v6",
			body: "d8:completei2e10:incompletei3e8:intervali1800e12:min intervali60e5:peers6:\x0a\x00\x00\x01\x1a\xe16:peers618:\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x50e",
			want: tracker.AnnounceResponse{Interval: 30 * time.Minute, MinInterval: time.Minute, Complete: 2, Incomplete: 3,
				Peers: []tracker.Peer{{Addr: netip.MustParseAddrPort("10.0.0.1:6881")}, {Addr: netip.MustParseAddrPort("[2001:db8::1]:80")}}}},
		{name: "dictionary peers",
			body: "d8:intervali5e5:peersld2:ip8:10.0.0.27:peer id20:-XX0000-aaaaaaaaaaaa4:porti99eed2:ip4:host4:porti1eed2:ip3:::14:porti0eeee",
			want: tracker.AnnounceResponse{Interval: 5 * time.Second,
				Peers: []tracker.Peer{{ID: tracker.PeerID([]byte("-XX0000-aaaaaaaaaaaa")), Addr: netip.MustParseAddrPort("10.0.0.2:99")}}}},
		{name: "warning", body: "d8:intervali5e15:warning message4:oddse",
			want: tracker.AnnounceResponse{Interval: 5 * time.Second, Warning: "odds"}},
		{name: "huge interval clamped", body: "d8:intervali99999999999ee",
			want: tracker.AnnounceResponse{Interval: 24 * time.Hour}},
		{name: "failure", body: "d14:failure reason8:go away!e", errText: "failure reason: go away!"},
		{name: "bad compact length", body: "d5:peers5:abcdee", errText: "not a multiple of 6"},
		{name: "negative interval", body: "d8:intervali-1ee", errText: "negative"},
		{name: "not bencode", body: "<html>oops</html>", errText: "decode reply"},
		{name: "huge string length", body: "d5:peers99999999999:e", errText: "decode"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := fixed(t, tc.body)
			got, err := newClient(t, []string{srv.URL + "/announce"}).Announce(t.Context(), tracker.AnnounceRequest{Port: 1})
			if tc.errText != "" {
				require.ErrorContains(t, err, tc.errText)
				return
			}
			require.NoError(t, err)
			tc.want.Tracker = srv.URL + "/announce"
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestClientFailureIsTyped(t *testing.T) {
	srv, _ := fixed(t, "d14:failure reason4:nopee")
	_, err := newClient(t, []string{srv.URL + "/announce"}).Announce(t.Context(), tracker.AnnounceRequest{Port: 1})
	fe, ok := errors.AsType[*tracker.FailureError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, &tracker.FailureError{Tracker: srv.URL + "/announce", Reason: "nope"}, fe)
}

func TestClientLimitsAndStatus(t *testing.T) {
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("d5:peers2000:" + strings.Repeat("x", 2000) + "e"))
	}))
	t.Cleanup(big.Close)
	c, err := tracker.NewClient(tracker.ClientConfig{Tiers: [][]string{{big.URL + "/announce"}}, MaxReplySize: 1000})
	require.NoError(t, err)
	_, err = c.Announce(t.Context(), tracker.AnnounceRequest{})
	assert.ErrorContains(t, err, "reply larger than 1000 bytes")

	down := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(down.Close)
	_, err = newClient(t, []string{down.URL + "/announce"}).Announce(t.Context(), tracker.AnnounceRequest{})
	assert.ErrorContains(t, err, "404")

	_, err = tracker.NewClient(tracker.ClientConfig{Tiers: [][]string{{"wss://x:1/announce"}}})
	assert.ErrorIs(t, err, tracker.ErrNoTrackers)
}

func TestClientTiers(t *testing.T) {
	var hits atomic.Int32
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte("d8:intervali5e10:tracker id3:t-1e"))
	}))
	t.Cleanup(good.Close)
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("d14:failure reason4:busye"))
	}))
	t.Cleanup(bad.Close)
	dead := "http://127.0.0.1:1/announce"
	g, b := good.URL+"/announce", bad.URL+"/announce"

	c := newClient(t, []string{dead, b}, []string{"wss://skip:1", b, g, dead})
	resp, err := c.Announce(t.Context(), tracker.AnnounceRequest{})
	require.NoError(t, err, "falls through tiers to the one that answers")
	assert.Equal(t, g, resp.Tracker)
	tiers := c.Tiers()
	require.Len(t, tiers, 2)
	assert.Equal(t, g, tiers[1][0], "the answering tracker moves to the front of its tier")
	assert.ElementsMatch(t, []string{dead, b}, tiers[0])
	assert.ElementsMatch(t, []string{g, b, dead}, tiers[1])

	ok := newClient(t, []string{g})
	_, err = ok.Announce(t.Context(), tracker.AnnounceRequest{})
	require.NoError(t, err)
	_, err = ok.Announce(t.Context(), tracker.AnnounceRequest{})
	require.NoError(t, err)

	all := newClient(t, []string{dead}, []string{b})
	_, err = all.Announce(t.Context(), tracker.AnnounceRequest{})
	fe, isFailure := errors.AsType[*tracker.FailureError](err)
	require.True(t, isFailure, "%v", err)
	assert.Equal(t, "busy", fe.Reason)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = newClient(t, []string{g}).Announce(ctx, tracker.AnnounceRequest{})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestClientSendsTrackerID(t *testing.T) {
	srv, last := fixed(t, "d8:intervali5e10:tracker id4:ab&ce")
	c := newClient(t, []string{srv.URL + "/announce"})
	_, err := c.Announce(t.Context(), tracker.AnnounceRequest{})
	require.NoError(t, err)
	assert.NotContains(t, last.Load().(string), "trackerid")
	_, err = c.Announce(t.Context(), tracker.AnnounceRequest{})
	require.NoError(t, err)
	assert.Contains(t, last.Load().(string), "&trackerid=ab%26c")
}

func TestScrapeURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://t.example/announce", "http://t.example/scrape"},
		{"http://t.example/x/announce.php?pk=1", "http://t.example/x/scrape.php?pk=1"},
		{"http://t.example/a", ""},
		{"http://t.example/announce/x", ""},
	}
	for _, tc := range tests {
		got, err := tracker.ScrapeURL(tc.in)
		if tc.want == "" {
			assert.ErrorIs(t, err, tracker.ErrNoScrape, tc.in)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tc.want, got)
	}
}

func TestBackoff(t *testing.T) {
	b := tracker.Backoff{Base: time.Second, Max: 10 * time.Second, Rand: rand.New(rand.NewPCG(1, 1))}
	for i, full := range []time.Duration{1, 2, 4, 8, 10, 10} {
		d := b.Next()
		assert.GreaterOrEqual(t, d, full*time.Second/2, "attempt %d", i)
		assert.LessOrEqual(t, d, full*time.Second, "attempt %d", i)
	}
	b.Reset()
	assert.LessOrEqual(t, b.Next(), time.Second)
}
