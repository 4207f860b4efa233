package tracker

import (
	"bytes"
	"net/http"
	"slices"

	"github.com/swarm-bt/swarm/metainfo"
)

var errNoFullScrape = &ClientError{Reason: "full scrape is disabled: name info_hash values", kind: "not_allowed"}

// handleScrape answers BEP 48 scrapes. Unknown swarms are reported with zero counts, as
// opentracker does, so a client can tell "no peers" from "no answer".
func (s *Server) handleScrape(w http.ResponseWriter, r *http.Request) {
	rb := s.bufs.Get().(*replyBuf)
	defer s.bufs.Put(rb)
	b, err := s.scrape(r, rb.b[:0])
	if err != nil {
		b = s.failure(r.Context(), rb.b[:0], "scrape", err)
	} else {
		s.metrics.scrapes.Inc()
	}
	writeBencode(w, b)
	rb.b = b
}

func (s *Server) scrape(r *http.Request, b []byte) ([]byte, error) {
	hs, err := parseScrape(r.URL.RawQuery)
	if err != nil {
		return b, err
	}
	var counts []Counts
	switch {
	case len(hs) == 0 && !s.cfg.FullScrape:
		return b, errNoFullScrape
	case len(hs) == 0:
		for h, c := range s.store.Swarms() {
			if s.cfg.Allow == nil || s.cfg.Allow(h) {
				hs = append(hs, h)
				counts = append(counts, c)
			}
		}
	default:
		for _, h := range hs {
			c, _ := s.store.Scrape(h)
			counts = append(counts, c)
		}
	}
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
