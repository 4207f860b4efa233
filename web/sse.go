package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/swarm-bt/swarm/daemon"
)

// minEventGap bounds how often one stream sends, however many changes happen.
const minEventGap = 250 * time.Millisecond

// overview is the "torrents" event: the list and the totals.
type overview struct {
	Torrents []daemon.Status `json:"torrents"`
	Totals   daemon.Totals   `json:"totals"`
	Time     time.Time       `json:"time"`
}

// detail is the "torrent" event, sent when the stream was opened with ?torrent=IH.
type detail struct {
	Status daemon.Status       `json:"status"`
	Peers  []daemon.Peer       `json:"peers"`
	Pieces daemon.Pieces       `json:"pieces"`
	Choke  []daemon.ChokeRound `json:"choke"`
	Files  []daemon.File       `json:"files"`
}

// handleEvents streams Server-Sent Events: "torrents" (list and totals) at every daemon tick
// and change, and "torrent" (one torrent's status, peer ledger, piece map, choke log) when
// ?torrent=IH is given. The stream ends when the client goes or the daemon stops.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	ih := r.URL.Query().Get("torrent")
	if ih != "" {
		if _, err := s.cfg.Daemon.Get(ih); err != nil {
			s.writeDaemonError(w, err)
			return
		}
	}
	events, cancel := s.cfg.Daemon.Subscribe()
	defer cancel()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	var last time.Time
	for {
		if err := s.sendState(w, ih); err != nil {
			return
		}
		fl.Flush()
		last = time.Now()
		select {
		case _, ok := <-events:
			if !ok {
				return
			}
		case <-r.Context().Done():
			return
		}
		if wait := minEventGap - time.Since(last); wait > 0 {
			select {
			case <-time.After(wait):
			case <-r.Context().Done():
				return
			}
		}
	}
}

func (s *Server) sendState(w http.ResponseWriter, ih string) error {
	d := s.cfg.Daemon
	if err := sendEvent(w, "torrents", overview{Torrents: d.List(), Totals: d.Totals(), Time: time.Now()}); err != nil {
		return err
	}
	if ih == "" {
		return nil
	}
	st, err := d.Get(ih)
	if err != nil {
		return sendEvent(w, "gone", map[string]string{"info_hash": ih})
	}
	var dt detail
	dt.Status = st
	dt.Peers, _ = d.Peers(ih)
	if dt.Pieces, err = d.Pieces(ih); err != nil { // no metadata yet
		dt.Pieces = daemon.Pieces{InFlight: []int{}, Availability: []int{}}
	}
	dt.Choke, _ = d.ChokeLog(ih)
	dt.Files, _ = d.Files(ih)
	return sendEvent(w, "torrent", dt)
}

func sendEvent(w http.ResponseWriter, name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, b)
	return err
}
