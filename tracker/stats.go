package tracker

import (
	"cmp"
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
)

// maxStatsRows bounds the /stats listing; the totals always cover every swarm.
const maxStatsRows = 1000

// SwarmStats is one row of /stats.
type SwarmStats struct {
	InfoHash   string `json:"info_hash"`
	Complete   int    `json:"complete"`
	Incomplete int    `json:"incomplete"`
	Downloaded int    `json:"downloaded"`
}

// Stats is the /stats document: totals and the largest swarms first.
type Stats struct {
	Swarms int          `json:"swarms"`
	Peers  int          `json:"peers"`
	Rows   []SwarmStats `json:"torrents"`
}

// Stats returns a snapshot of the store: totals and up to 1,000 swarms, largest first.
func (s *Server) Stats() Stats {
	var st Stats
	for h, c := range s.store.Swarms() {
		st.Swarms++
		st.Peers += c.Complete + c.Incomplete
		st.Rows = append(st.Rows, SwarmStats{h.String(), c.Complete, c.Incomplete, c.Downloaded})
		if len(st.Rows) == 2*maxStatsRows {
			st.Rows = topRows(st.Rows) // bounded memory however many swarms there are
		}
	}
	st.Rows = topRows(st.Rows)
	return st
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
<table>
<tr><th>info-hash</th><th>seeders</th><th>leechers</th><th>completed</th></tr>
{{range .Rows}}<tr><td><code>{{.InfoHash}}</code></td><td>{{.Complete}}</td><td>{{.Incomplete}}</td><td>{{.Downloaded}}</td></tr>
{{end}}</table>
</body></html>
`))

func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) {
	st := s.Stats()
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

func handleHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte("ok\n"))
}
