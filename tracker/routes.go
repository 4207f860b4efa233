package tracker

import (
	"net/http"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes is the only place that knows gorilla/mux (DESIGN H.10): swapping it for
// http.ServeMux touches this file alone.
func (s *Server) routes() http.Handler {
	r := mux.NewRouter()
	get := []string{http.MethodGet, http.MethodHead}
	r.HandleFunc("/announce", s.handleAnnounce).Methods(get...)
	r.HandleFunc("/scrape", s.handleScrape).Methods(get...)
	r.HandleFunc("/stats", s.handleStats).Methods(get...)
	r.Handle("/metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})).Methods(get...)
	r.HandleFunc("/healthz", s.handleHealthz).Methods(get...)
	return r
}
