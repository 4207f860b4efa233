package tracker

import (
	"bytes"
	"context"
	"net/http"
	"net/netip"
	"slices"

	"github.com/swarm-bt/swarm/metainfo"
)

// handleScrape answers BEP 48 scrapes. Unknown swarms are reported with zero counts, as
// opentracker does, so a client can tell "no peers" from "no answer".
func (s *Server) handleScrape(w http.ResponseWriter, r *http.Request) {
	rb := s.bufs.Get().(*replyBuf)
	defer s.bufs.Put(rb)
	b, err := s.scrape(r, rb.b[:0])
	if err != nil {
		b = s.failure(r.Context(), rb.b[:0], "scrape", err)
	}
	writeBencode(w, b)
	rb.b = b
}

func (s *Server) scrape(r *http.Request, b []byte) ([]byte, error) {
	hs, err := parseScrape(r.URL.RawQuery)
	if err != nil {
		return b, err
	}
	if len(hs) == 0 && !s.cfg.FullScrape {
		return b, errNoFullScrape
	}
	ip, ok := s.peerIP(r)
	if !ok {
		return b, errNoAddress
	}
	if len(hs) == 0 {
		return s.fullScrape(r.Context(), ip, b)
	}
	counts, err := s.Scrape(r.Context(), ip, hs, nil)
	if err != nil {
		return b, err
	}
	return appendScrapeSorted(b, hs, counts), nil
}

// fullScrape answers a scrape without info_hash with every allowed swarm (--full-scrape).
func (s *Server) fullScrape(ctx context.Context, ip netip.Addr, b []byte) ([]byte, error) {
	if s.limiter != nil && !s.limiter.allow(ip, s.cfg.Now()) {
		return b, errRateLimited
	}
	var hs []metainfo.Hash
	var counts []Counts
	err := s.store.Swarms(ctx, func(h metainfo.Hash, c Counts) bool {
		if s.cfg.Allow == nil || s.cfg.Allow(h) {
			hs = append(hs, h)
			counts = append(counts, c)
		}
		return true
	})
	if err != nil {
		return b, s.storeError(err)
	}
	s.metrics.scrapes.Inc()
	return appendScrapeSorted(b, hs, counts), nil
}

// appendScrapeSorted sorts by raw info-hash (bencode dictionary order) and drops duplicates.
func appendScrapeSorted(b []byte, hs []metainfo.Hash, counts []Counts) []byte {
	idx := make([]int, len(hs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(i, j int) int { return bytes.Compare(hs[i][:], hs[j][:]) })
	keys := make([][]byte, 0, len(hs))
	vals := make([]Counts, 0, len(hs))
	for n, i := range idx {
		if n > 0 && hs[i] == hs[idx[n-1]] {
			continue
		}
		keys = append(keys, hs[i][:])
		vals = append(vals, counts[i])
	}
	return appendScrape(b, keys, vals)
}
