package web

import (
	"net/http"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes is the one place that knows gorilla/mux (DESIGN H.10).
func (s *Server) routes() http.Handler {
	r := mux.NewRouter()
	r.Use(s.checkHost)
	r.HandleFunc("/login", s.handleLogin).Methods(http.MethodGet)
	r.HandleFunc("/logout", s.handleLogout).Methods(http.MethodPost)
	r.PathPrefix("/static/").Handler(staticHandler()).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/", serveIndex).Methods(http.MethodGet, http.MethodHead)

	api := r.PathPrefix("/api/v1").Subrouter()
	api.Use(s.requireAuth)
	api.HandleFunc("/torrents", s.handleList).Methods(http.MethodGet)
	api.HandleFunc("/torrents", s.handleAdd).Methods(http.MethodPost)
	t := api.PathPrefix("/torrents/{ih:[0-9a-fA-F]{40}}").Subrouter()
	t.HandleFunc("", s.handleGet).Methods(http.MethodGet)
	t.HandleFunc("", s.handleRemove).Methods(http.MethodDelete)
	t.HandleFunc("/pause", s.handleAction(actionPause)).Methods(http.MethodPost)
	t.HandleFunc("/resume", s.handleAction(actionResume)).Methods(http.MethodPost)
	t.HandleFunc("/recheck", s.handleAction(actionRecheck)).Methods(http.MethodPost)
	t.HandleFunc("/limits", s.handleSetLimits).Methods(http.MethodPut)
	t.HandleFunc("/files", s.handleFiles).Methods(http.MethodGet)
	t.HandleFunc("/peers", s.handlePeers).Methods(http.MethodGet)
	t.HandleFunc("/pieces", s.handlePieces).Methods(http.MethodGet)
	t.HandleFunc("/choke", s.handleChoke).Methods(http.MethodGet)
	api.HandleFunc("/settings", s.handleSettings).Methods(http.MethodGet)
	api.HandleFunc("/settings", s.handleSetSettings).Methods(http.MethodPut)
	api.HandleFunc("/stats", s.handleStats).Methods(http.MethodGet)
	api.HandleFunc("/events", s.handleEvents).Methods(http.MethodGet)
	for _, sr := range []*mux.Router{r, api, t} {
		sr.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			writeError(w, http.StatusNotFound, "not found")
		})
		sr.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			writeError(w, http.StatusMethodNotAllowed, "method not allowed")
		})
	}
	if s.cfg.Gatherer != nil {
		m := r.PathPrefix("/metrics").Subrouter()
		m.Use(s.requireAuth)
		m.Handle("", promhttp.HandlerFor(s.cfg.Gatherer, promhttp.HandlerOpts{})).Methods(http.MethodGet)
	}
	return r
}

// infoHash is the {ih} path variable.
func infoHash(r *http.Request) string { return mux.Vars(r)["ih"] }
