package tracker

import (
	"cmp"
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/swarm-bt/swarm/metainfo"
)

const (
	// maxStatsRows bounds the /stats listing; the totals always cover every swarm.
	maxStatsRows = 1000
	// statsRowsTTL is how long a listing is reused: building one walks every swarm, so
	// pollers of /stats must not do it on each request.
	statsRowsTTL = 30 * time.Second
	// healthTimeout bounds /healthz's ping of the store.
	healthTimeout = 2 * time.Second
)

// SwarmStats is one row of /stats.
type SwarmStats struct {
	InfoHash   string `json:"info_hash"`
	Complete   int    `json:"complete"`
	Incomplete int    `json:"incomplete"`
	Downloaded int    `json:"downloaded"`
}

// Stats is the /stats document: totals and, with full scrape on, the largest swarms first.
type Stats struct {
	Swarms int          `json:"swarms"`
	Peers  int          `json:"peers"`
	Rows   []SwarmStats `json:"torrents,omitempty"`
}

// statsCache holds the last listing of the largest swarms.
type statsCache struct {
	build sync.Mutex // held by the one request that rebuilds the listing
	mu    sync.Mutex // guards the fields below
	at    time.Time
	rows  []SwarmStats
}

// Stats returns the store's totals, which cost O(1), and, only when full scrape is on, up
// to 1,000 swarms largest first from a listing rebuilt at most every 30 s. Without full
// scrape no info-hash is listed: the list would be a full scrape by another name.
func (s *Server) Stats(ctx context.Context) (Stats, error) {
	tot, err := s.store.Totals(ctx)
	if err != nil {
		return Stats{}, err
	}
	st := Stats{Swarms: tot.Swarms, Peers: tot.Peers}
	if s.cfg.FullScrape {
		st.Rows, err = s.statsRows(ctx)
	}
	return st, err
}

// statsRows returns the cached listing, rebuilding it when stale. While one request
// rebuilds, the others get the stale listing instead of waiting or walking the store too.
func (s *Server) statsRows(ctx context.Context) ([]SwarmStats, error) {
	c := &s.stats
	now := s.cfg.Now()
	c.mu.Lock()
	rows, fresh := c.rows, !c.at.IsZero() && now.Sub(c.at) < statsRowsTTL
	c.mu.Unlock()
	if fresh {
		return rows, nil
	}
	if !c.build.TryLock() {
		if rows != nil {
			return rows, nil
		}
		c.build.Lock() // nobody has a listing yet: wait for the one being built
	}
	defer c.build.Unlock()
	c.mu.Lock()
	if !c.at.IsZero() && now.Sub(c.at) < statsRowsTTL {
		rows = c.rows
		c.mu.Unlock()
		return rows, nil
	}
	c.mu.Unlock()
	rows, err := s.buildRows(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.rows, c.at = rows, now
	c.mu.Unlock()
	return rows, nil
}

func (s *Server) buildRows(ctx context.Context) ([]SwarmStats, error) {
	rows := []SwarmStats{}
	err := s.store.Swarms(ctx, func(h metainfo.Hash, c Counts) bool {
		rows = append(rows, SwarmStats{h.String(), c.Complete, c.Incomplete, c.Downloaded})
		if len(rows) == 2*maxStatsRows {
			rows = topRows(rows) // bounded memory however many swarms there are
		}
		return true
	})
	return topRows(rows), err
}

// topRows sorts rows largest swarm first and keeps at most maxStatsRows.
func topRows(rows []SwarmStats) []SwarmStats {
	slices.SortFunc(rows, func(a, b SwarmStats) int {
		return cmp.Or(cmp.Compare(b.Complete+b.Incomplete, a.Complete+a.Incomplete),
			cmp.Compare(a.InfoHash, b.InfoHash))
	})
	return rows[:min(len(rows), maxStatsRows)]
}

var statsPage = template.Must(template.New("stats").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>swarm tracker</title></head><body>
<h1>swarm tracker</h1>
<p>{{.Swarms}} swarms, {{.Peers}} peers</p>
{{if .Rows}}<table>
<tr><th>info-hash</th><th>seeders</th><th>leechers</th><th>completed</th></tr>
{{range .Rows}}<tr><td><code>{{.InfoHash}}</code></td><td>{{.Complete}}</td><td>{{.Incomplete}}</td><td>{{.Downloaded}}</td></tr>
{{end}}</table>
{{end}}</body></html>
`))

func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) {
	st, err := s.Stats(r.Context())
	if err != nil {
		s.log.WarnContext(r.Context(), "stats", "err", err)
		http.Error(w, "tracker temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	if r.URL.Query().Get("format") == "json" {
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewEncoder(w).Encode(st); err != nil {
			s.log.DebugContext(r.Context(), "write stats", "err", err)
		}
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := statsPage.Execute(w, st); err != nil {
		s.log.DebugContext(r.Context(), "write stats", "err", err)
	}
}

// handleHealthz answers "ok", or 503 when the store's backing service does not answer.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	if p, ok := s.store.(Pinger); ok {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		if err := p.Ping(ctx); err != nil {
			s.log.WarnContext(r.Context(), "health check", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("unhealthy: store unavailable\n"))
			return
		}
	}
	_, _ = w.Write([]byte("ok\n"))
}
