package tracker_test

import (
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/swarm-bt/swarm/tracker"
	"github.com/swarm-bt/swarm/tracker/trackertest"
)

// BenchmarkAnnounceHandler measures one announce through the router and handler (no network)
// with random peers over 1,024 swarms, as bench/tracker-load.sh does over HTTP.
func BenchmarkAnnounceHandler(b *testing.B) {
	s, err := tracker.New(tracker.Config{Rand: rand.New(rand.NewPCG(1, 1))})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := rand.New(rand.NewPCG(rand.Uint64(), 0))
		for pb.Next() {
			n := r.IntN(1 << 30)
			h, id := trackertest.Hash(n%1024), trackertest.ID(n)
			q := "info_hash=" + url.QueryEscape(string(h[:])) + "&peer_id=" + url.QueryEscape(string(id[:])) +
				"&port=" + strconv.Itoa(1024+n%60000) + "&uploaded=0&downloaded=0&left=" + strconv.Itoa(n%2) + "&compact=1&numwant=50"
			req := httptest.NewRequest(http.MethodGet, "/announce?"+q, nil)
			req.RemoteAddr = "127.0.0.1:5000"
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
		}
	})
}

// BenchmarkStatsManySwarms serves /stats?format=json from a store of 1,000,000 one-peer
// swarms, without full scrape (totals only) and with it (the listing, cached for 30 s). It
// walked every swarm on each request before: 420 ms at 1.19 million swarms.
func BenchmarkStatsManySwarms(b *testing.B) {
	st := tracker.NewMemStore(tracker.MemStoreConfig{Rand: rand.New(rand.NewPCG(1, 1))})
	now := time.Unix(1000, 0)
	for n := range 1_000_000 {
		_, _ = st.Put(b.Context(), tracker.PutRequest{InfoHash: trackertest.Hash(n), Addr: trackertest.Addr(n), Now: now}, nil)
	}
	for _, full := range []bool{false, true} {
		b.Run("full_scrape="+strconv.FormatBool(full), func(b *testing.B) {
			s, err := tracker.New(tracker.Config{Store: st, FullScrape: full})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				w := httptest.NewRecorder()
				s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/stats?format=json", nil))
				if w.Code != http.StatusOK {
					b.Fatal(w.Code)
				}
			}
		})
	}
}
