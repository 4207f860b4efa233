package tracker_test

import (
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

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
