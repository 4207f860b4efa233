package tracker_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/tracker"
	"github.com/swarm-bt/swarm/tracker/trackertest"
)

const (
	hash20 = "%01%02%03%04%05%06%07%08%09%0A%0B%0C%0D%0E%0F%10%11%12%13%14"
	id20   = "-SW0001-abcdefghijkl"
)

func TestAnnounceBadRequests(t *testing.T) {
	s, _ := newTestServer(t, tracker.Config{})
	ok := "info_hash=" + hash20 + "&peer_id=" + id20 + "&port=6881&uploaded=0&downloaded=0&left=0"
	tests := []struct {
		name, query, reason string
	}{
		{"missing info_hash", "peer_id=" + id20 + "&port=1", "missing info_hash"},
		{"short info_hash", strings.Replace(ok, "%14", "", 1), "info_hash must be 20 bytes"},
		{"long info_hash", strings.Replace(ok, "%14", "%14%15", 1), "info_hash must be 20 bytes"},
		{"bad escape info_hash", strings.Replace(ok, "%14", "%1", 1), "malformed escape in info_hash"},
		{"missing peer_id", "info_hash=" + hash20 + "&port=1", "missing peer_id"},
		{"short peer_id", strings.Replace(ok, id20, "abc", 1), "peer_id must be 20 bytes"},
		{"long peer_id", strings.Replace(ok, id20, id20+"x", 1), "peer_id must be 20 bytes"},
		{"missing port", strings.Replace(ok, "&port=6881", "", 1), "missing port"},
		{"port zero", strings.Replace(ok, "port=6881", "port=0", 1), "invalid port"},
		{"port too big", strings.Replace(ok, "port=6881", "port=65536", 1), "invalid port"},
		{"port negative", strings.Replace(ok, "port=6881", "port=-1", 1), "invalid port"},
		{"port text", strings.Replace(ok, "port=6881", "port=abc", 1), "invalid port"},
		{"negative uploaded", strings.Replace(ok, "uploaded=0", "uploaded=-5", 1), "invalid uploaded"},
		{"text downloaded", strings.Replace(ok, "downloaded=0", "downloaded=lots", 1), "invalid downloaded"},
		{"negative left", strings.Replace(ok, "left=0", "left=-1", 1), "invalid left"},
		{"overflow left", strings.Replace(ok, "left=0", "left=99999999999999999999", 1), "invalid left"},
		{"unknown event", ok + "&event=paused", "unknown event"},
		{"text numwant", ok + "&numwant=many", "invalid numwant"},
		{"too many params", ok + strings.Repeat("&x=1", 100), "too many query parameters"},
		{"empty query", "", "missing info_hash"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := get(t, s, "/announce?"+tc.query, "", "")
			require.Equal(t, http.StatusOK, w.Code)
			var r reply
			require.NoError(t, bencode.Unmarshal(w.Body.Bytes(), &r), w.Body.String())
			assert.Contains(t, r.Failure, tc.reason)
		})
	}
	swarms, peers := storeLen(t, s)
	assert.Equal(t, 0, swarms+peers, "no bad request stores anything")
}

func TestAnnounceSwarm(t *testing.T) {
	s, _ := newTestServer(t, tracker.Config{Interval: 10 * time.Minute})
	h := trackertest.Hash(1)
	r := announce(t, s, ann{hash: h, peer: 1, left: 100, event: "started", remote: "10.0.0.1:1000"})
	require.Empty(t, r.Failure)
	assert.Equal(t, 600, r.Interval)
	assert.Equal(t, 300, r.MinInterval)
	assert.Equal(t, 1, r.Incomplete)
	assert.Empty(t, compactPeers(t, r.Peers), "the requester is never in its own list")
	assert.Nil(t, r.Peers6, "an IPv4 requester gets no peers6 key")

	r = announce(t, s, ann{hash: h, peer: 2, port: 7000, left: 0, remote: "10.0.0.2:1000"})
	assert.Equal(t, []string{"10.0.0.1:6881"}, compactPeers(t, r.Peers), "compact is the default")
	assert.Equal(t, 1, r.Complete)

	r = announce(t, s, ann{hash: h, peer: 3, port: 7001, left: 0, remote: "10.0.0.3:1000"})
	assert.Equal(t, []string{"10.0.0.1:6881"}, compactPeers(t, r.Peers), "seeders get no seeders")
	r = announce(t, s, ann{hash: h, peer: 4, left: 5, remote: "10.0.0.4:1000"})
	assert.ElementsMatch(t, []string{"10.0.0.1:6881", "10.0.0.2:7000", "10.0.0.3:7001"}, compactPeers(t, r.Peers))
}

func TestAnnounceCompletedOnceAndStopped(t *testing.T) {
	s, _ := newTestServer(t, tracker.Config{})
	h := trackertest.Hash(2)
	announce(t, s, ann{hash: h, peer: 1, left: 10, event: "started"})
	announce(t, s, ann{hash: h, peer: 1, left: 0, event: "completed"})
	r := announce(t, s, ann{hash: h, peer: 1, left: 0, event: "completed"})
	assert.Equal(t, 1, r.Downloaded, "completed counts once per peer")
	assert.Equal(t, 1, r.Complete)
	announce(t, s, ann{hash: h, peer: 2, left: 10})
	r = announce(t, s, ann{hash: h, peer: 1, left: 0, event: "stopped"})
	require.Empty(t, r.Failure)
	assert.Equal(t, 0, r.Complete)
	assert.Equal(t, 1, r.Incomplete)
	assert.Equal(t, 1, r.Downloaded)
	r = announce(t, s, ann{hash: h, peer: 3, left: 10})
	assert.Len(t, compactPeers(t, r.Peers), 1, "a stopped peer is not handed out")
	r = announce(t, s, ann{hash: h, peer: 3, left: 0, event: "stopped"})
	assert.Equal(t, 2, r.Downloaded, "a leecher stopping with left=0 finished its download")
	assert.Equal(t, 1, r.Incomplete)
}

func TestAnnounceNumWant(t *testing.T) {
	s, _ := newTestServer(t, tracker.Config{})
	h := trackertest.Hash(3)
	for n := range 260 {
		announce(t, s, ann{hash: h, peer: n, left: 1, remote: netip.AddrPortFrom(trackertest.Addr(n).Addr(), 1).String()})
	}
	tests := []struct{ numwant, want int }{{0, 50}, {10, 10}, {200, 200}, {1000, 200}, {-1, 50}}
	for _, tc := range tests {
		extra := ""
		if tc.numwant != 0 {
			extra = "numwant=" + itoa(tc.numwant)
		}
		r := announce(t, s, ann{hash: h, peer: 999, left: 1, extra: extra})
		assert.Len(t, compactPeers(t, r.Peers), tc.want, "numwant=%d", tc.numwant)
	}
}

func TestAnnounceDictionaryPeers(t *testing.T) {
	s, _ := newTestServer(t, tracker.Config{})
	h := trackertest.Hash(4)
	announce(t, s, ann{hash: h, peer: 1, left: 1, remote: "10.1.1.1:9"})
	type dictPeer struct {
		IP     string  `bencode:"ip"`
		PeerID *string `bencode:"peer id"`
		Port   int     `bencode:"port"`
	}
	var peers []dictPeer
	r := announce(t, s, ann{hash: h, peer: 2, left: 1, extra: "compact=0"})
	require.NoError(t, bencode.Unmarshal(r.Peers, &peers))
	require.Len(t, peers, 1)
	assert.Equal(t, "10.1.1.1", peers[0].IP)
	assert.Equal(t, 6881, peers[0].Port)
	assert.Nil(t, peers[0].PeerID, "no peer ids unless asked (attack_test.go)")

	peers = nil
	r = announce(t, s, ann{hash: h, peer: 2, left: 1, extra: "compact=0&no_peer_id=1"})
	require.NoError(t, bencode.Unmarshal(r.Peers, &peers))
	require.Len(t, peers, 1)
	assert.Nil(t, peers[0].PeerID)
}

func TestAnnounceIPv6(t *testing.T) {
	s, _ := newTestServer(t, tracker.Config{})
	h := trackertest.Hash(5)
	announce(t, s, ann{hash: h, peer: 1, left: 1, remote: "[2001:db8::1]:5000"})
	announce(t, s, ann{hash: h, peer: 2, left: 1, remote: "10.0.0.2:5000"})
	r := announce(t, s, ann{hash: h, peer: 3, left: 1, remote: "[2001:db8::3]:5000"})
	require.NotNil(t, r.Peers6, "an IPv6 requester gets peers6")
	require.Len(t, *r.Peers6, 18)
	p6 := []byte(*r.Peers6)
	assert.Equal(t, "[2001:db8::1]:6881", netip.AddrPortFrom(netip.AddrFrom16([16]byte(p6[:16])), uint16(p6[16])<<8|uint16(p6[17])).String())
	assert.Equal(t, []string{"10.0.0.2:6881"}, compactPeers(t, r.Peers))
	v4 := trackertest.Hash(55)
	announce(t, s, ann{hash: v4, peer: 1, left: 1, remote: "10.0.0.1:5000"})
	r = announce(t, s, ann{hash: v4, peer: 4, left: 1, remote: "[::ffff:10.0.0.4]:5000"})
	assert.Nil(t, r.Peers6, "mapped addresses count as IPv4")
	assert.Equal(t, []string{"10.0.0.1:6881"}, compactPeers(t, r.Peers))
}

func TestAnnounceExpiry(t *testing.T) {
	s, clk := newTestServer(t, tracker.Config{Interval: time.Minute})
	h := trackertest.Hash(6)
	announce(t, s, ann{hash: h, peer: 1, left: 1})
	clk.Add(90 * time.Second)
	announce(t, s, ann{hash: h, peer: 2, left: 1})
	clk.Add(31 * time.Second)
	assert.Equal(t, 1, s.Reap(t.Context(), clk.Now()), "only the peer silent for over two intervals expires")
	r := announce(t, s, ann{hash: h, peer: 3, left: 1})
	assert.Equal(t, []string{"192.0.2.2:6881"}, compactPeers(t, r.Peers))
	assert.Equal(t, 2, r.Incomplete)
}

func TestAnnounceAllowList(t *testing.T) {
	allowed := trackertest.Hash(7)
	s, _ := newTestServer(t, tracker.Config{Allow: func(h metainfo.Hash) bool { return h == allowed }})
	assert.Empty(t, announce(t, s, ann{hash: allowed, peer: 1}).Failure)
	assert.Contains(t, announce(t, s, ann{hash: trackertest.Hash(8), peer: 1}).Failure, "not allowed")
}

func TestAnnounceRateLimit(t *testing.T) {
	s, clk := newTestServer(t, tracker.Config{RatePerIP: 1, RateBurst: 2})
	h := trackertest.Hash(9)
	assert.Empty(t, announce(t, s, ann{hash: h, peer: 1}).Failure)
	assert.Empty(t, announce(t, s, ann{hash: h, peer: 1}).Failure)
	r := announce(t, s, ann{hash: h, peer: 1})
	assert.Contains(t, r.Failure, "rate limit")
	assert.Equal(t, 1, r.RetryIn)
	assert.Empty(t, announce(t, s, ann{hash: h, peer: 1, remote: "192.0.2.2:1"}).Failure, "limits are per IP")
	clk.Add(time.Second)
	assert.Empty(t, announce(t, s, ann{hash: h, peer: 1}).Failure, "the bucket refills with time")
}

func TestAnnounceTrustProxy(t *testing.T) {
	for _, trust := range []bool{false, true} {
		s, _ := newTestServer(t, tracker.Config{TrustProxy: trust})
		h := trackertest.Hash(10)
		announce(t, s, ann{hash: h, peer: 1, left: 1, xff: "198.51.100.7, 203.0.113.9", remote: "127.0.0.1:1"})
		announce(t, s, ann{hash: h, peer: 2, left: 1, port: 7000, extra: "ip=198.51.100.8", remote: "127.0.0.1:1"})
		r := announce(t, s, ann{hash: h, peer: 3, left: 1})
		want := []string{"127.0.0.1:6881", "127.0.0.1:7000"}
		if trust {
			want = []string{"203.0.113.9:6881", "127.0.0.1:7000"}
		}
		assert.ElementsMatch(t, want, compactPeers(t, r.Peers), "trust=%v: ip= is never taken", trust)
	}
}

func TestAnnounceCaps(t *testing.T) {
	s, _ := newTestServer(t, tracker.Config{MaxSwarms: 1, MaxPeersPerSwarm: 1})
	announce(t, s, ann{hash: trackertest.Hash(1), peer: 1, left: 1})
	r := announce(t, s, ann{hash: trackertest.Hash(1), peer: 2, left: 1})
	require.Empty(t, r.Failure, "a full swarm still answers")
	assert.Len(t, compactPeers(t, r.Peers), 1)
	assert.Contains(t, announce(t, s, ann{hash: trackertest.Hash(2), peer: 1}).Failure, "tracker is full")
}

type scrapeReply struct {
	Failure string `bencode:"failure reason"`
	Files   map[string]struct {
		Complete   int `bencode:"complete"`
		Incomplete int `bencode:"incomplete"`
		Downloaded int `bencode:"downloaded"`
	} `bencode:"files"`
}

func TestScrape(t *testing.T) {
	for _, full := range []bool{false, true} {
		s, _ := newTestServer(t, tracker.Config{FullScrape: full})
		h1, h2, h3 := trackertest.Hash(1), trackertest.Hash(2), trackertest.Hash(3)
		announce(t, s, ann{hash: h1, peer: 1, left: 0, event: "completed"})
		announce(t, s, ann{hash: h1, peer: 2, left: 1})
		announce(t, s, ann{hash: h2, peer: 1, left: 1})
		var r scrapeReply
		w := get(t, s, "/scrape?info_hash="+escape(h1)+"&info_hash="+escape(h3)+"&info_hash="+escape(h1), "", "")
		require.NoError(t, bencode.Unmarshal(w.Body.Bytes(), &r), w.Body.String())
		require.Len(t, r.Files, 2)
		assert.Equal(t, 1, r.Files[string(h1[:])].Complete)
		assert.Equal(t, 1, r.Files[string(h1[:])].Incomplete)
		assert.Equal(t, 1, r.Files[string(h1[:])].Downloaded)
		assert.Equal(t, 0, r.Files[string(h3[:])].Complete, "unknown swarms are zero")

		r = scrapeReply{}
		w = get(t, s, "/scrape", "", "")
		require.NoError(t, bencode.Unmarshal(w.Body.Bytes(), &r), w.Body.String())
		if full {
			assert.Len(t, r.Files, 2)
		} else {
			assert.Contains(t, r.Failure, "full scrape is disabled")
		}
	}
}

func TestScrapeBadRequests(t *testing.T) {
	s, _ := newTestServer(t, tracker.Config{})
	tests := []struct{ name, query, reason string }{
		{"short hash", "info_hash=abc", "info_hash must be 20 bytes"},
		{"bad escape", "info_hash=%zz", "malformed escape"},
		{"too many", strings.Repeat("info_hash="+hash20+"&", 65), "too many info_hash"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r scrapeReply
			w := get(t, s, "/scrape?"+tc.query, "", "")
			require.Equal(t, http.StatusOK, w.Code)
			require.NoError(t, bencode.Unmarshal(w.Body.Bytes(), &r))
			assert.Contains(t, r.Failure, tc.reason)
		})
	}
}

func TestStatsMetricsHealthz(t *testing.T) {
	s, _ := newTestServer(t, tracker.Config{FullScrape: true})
	h := trackertest.Hash(1)
	announce(t, s, ann{hash: h, peer: 1, left: 0, event: "completed"})
	announce(t, s, ann{hash: h, peer: 2, left: 1, event: "started"})
	get(t, s, "/announce?info_hash=x", "", "")

	w := get(t, s, "/stats?format=json", "", "")
	require.Equal(t, http.StatusOK, w.Code)
	var st tracker.Stats
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &st))
	assert.Equal(t, tracker.Stats{Swarms: 1, Peers: 2, Rows: []tracker.SwarmStats{
		{InfoHash: h.String(), Complete: 1, Incomplete: 1, Downloaded: 1}}}, st)

	w = get(t, s, "/stats", "", "")
	assert.Contains(t, w.Header().Get("Content-Type"), "text/html")
	assert.Contains(t, w.Body.String(), "<code>"+h.String()+"</code>")

	body := get(t, s, "/metrics", "", "").Body.String()
	for _, line := range []string{
		`swarm_tracker_announces_total{event="completed"} 1`,
		`swarm_tracker_announces_total{event="started"} 1`,
		`swarm_tracker_failures_total{kind="bad_request"} 1`,
		`swarm_tracker_peers 2`,
		`swarm_tracker_swarms 1`,
	} {
		assert.Contains(t, body, line)
	}
	w = get(t, s, "/healthz", "", "")
	assert.Equal(t, "ok\n", w.Body.String())
	assert.Equal(t, http.StatusNotFound, get(t, s, "/nope", "", "").Code)
}

func escape(h metainfo.Hash) string {
	var b strings.Builder
	for _, c := range h {
		b.WriteString("%")
		b.WriteString(strings.ToUpper(string("0123456789abcdef"[c>>4]) + string("0123456789abcdef"[c&15])))
	}
	return b.String()
}

func TestStatsBounded(t *testing.T) {
	s, _ := newTestServer(t, tracker.Config{FullScrape: true, RatePerIP: -1, NewSwarmsPerMinute: -1})
	for h := range 2500 {
		for n := range 1 + h%3 {
			announce(t, s, ann{hash: trackertest.Hash(h), peer: n, left: 1})
		}
	}
	st, err := s.Stats(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 2500, st.Swarms)
	require.Len(t, st.Rows, 1000)
	assert.Equal(t, 3, st.Rows[0].Incomplete, "largest swarms first")
	assert.Equal(t, 2, st.Rows[len(st.Rows)-1].Incomplete, "833 swarms of 3 peers, then swarms of 2")
}

// failingStore breaks in a way a client must not see.
type failingStore struct{ tracker.Store }

func (failingStore) Put(context.Context, tracker.PutRequest, []tracker.Peer) (tracker.PutResult, error) {
	return tracker.PutResult{}, errors.New("disk on fire at /var/secret")
}

func TestInternalErrorsStayInternal(t *testing.T) {
	s, _ := newTestServer(t, tracker.Config{Store: failingStore{newMemStore(t)}})
	r := announce(t, s, ann{hash: trackertest.Hash(1), peer: 1})
	assert.Equal(t, "internal tracker error", r.Failure)
	assert.Contains(t, get(t, s, "/metrics", "", "").Body.String(), `swarm_tracker_failures_total{kind="internal"} 1`)
}
