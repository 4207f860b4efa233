package web

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/swarm-bt/swarm/daemon"
)

// Body caps: a .torrent upload (multi-gigabyte torrents have multi-megabyte piece lists) and
// every other request.
const (
	maxUpload = 16 << 20
	maxBody   = 64 << 10
)

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: msg})
}

// writeDaemonError maps the daemon's sentinels to statuses.
func (s *Server) writeDaemonError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, daemon.ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, daemon.ErrBadInput):
		code = http.StatusBadRequest
	case errors.Is(err, daemon.ErrDirNotAllowed):
		code = http.StatusForbidden
	case errors.Is(err, daemon.ErrExists):
		code = http.StatusConflict
	case errors.Is(err, daemon.ErrUnsupported):
		code = http.StatusNotImplemented
	case errors.Is(err, daemon.ErrClosed):
		code = http.StatusServiceUnavailable
	}
	if code == http.StatusInternalServerError {
		s.log.Error("api call failed", "err", err)
	}
	writeError(w, code, err.Error())
}

func (s *Server) handleList(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.cfg.Daemon.List())
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request) {
	st, err := s.cfg.Daemon.Get(infoHash(r))
	if err != nil {
		s.writeDaemonError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// addJSON is the JSON form of an add: a magnet link or a base64 .torrent.
type addJSON struct {
	Magnet  string        `json:"magnet"`
	Torrent string        `json:"torrent"` // base64 of the .torrent file
	SaveDir string        `json:"save_dir"`
	Paused  bool          `json:"paused"`
	Limits  daemon.Limits `json:"limits"`
}

// handleAdd takes a JSON body, or a multipart form (fields torrent (file), magnet, save_dir,
// paused) as the page's upload sends.
func (s *Server) handleAdd(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	req, err := parseAdd(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	st, err := s.cfg.Daemon.Add(req)
	if err != nil {
		s.writeDaemonError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, st)
}

func parseAdd(r *http.Request) (daemon.AddRequest, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		var a addJSON
		if err := decodeJSON(r.Body, &a); err != nil {
			return daemon.AddRequest{}, err
		}
		req := daemon.AddRequest{Magnet: a.Magnet, SaveDir: a.SaveDir, Paused: a.Paused, Limits: a.Limits}
		if a.Torrent != "" {
			b, err := base64.StdEncoding.DecodeString(a.Torrent)
			if err != nil {
				return req, fmt.Errorf("torrent: want base64: %w", err)
			}
			req.Torrent = b
		}
		return req, nil
	case "multipart/form-data":
		if err := r.ParseMultipartForm(maxUpload); err != nil {
			return daemon.AddRequest{}, fmt.Errorf("read form: %w", err)
		}
		req := daemon.AddRequest{Magnet: r.FormValue("magnet"), SaveDir: r.FormValue("save_dir"), Paused: r.FormValue("paused") == "true"}
		if f, _, err := r.FormFile("torrent"); err == nil {
			defer f.Close()
			b, err := io.ReadAll(io.LimitReader(f, maxUpload))
			if err != nil {
				return req, fmt.Errorf("read torrent: %w", err)
			}
			req.Torrent = b
		}
		return req, nil
	}
	return daemon.AddRequest{}, fmt.Errorf("content type %q: want application/json or multipart/form-data", ct)
}

// decodeJSON reads one JSON value, refusing unknown fields so that typos are errors.
func decodeJSON(body io.Reader, v any) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("read JSON body: %w", err)
	}
	return nil
}

func (s *Server) handleRemove(w http.ResponseWriter, r *http.Request) {
	del, err := boolParam(r, "delete_data")
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.cfg.Daemon.Remove(r.Context(), infoHash(r), del); err != nil {
		s.writeDaemonError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func boolParam(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: want true or false", name, v)
	}
	return b, nil
}

type action int

const (
	actionPause action = iota
	actionResume
	actionRecheck
)

func (s *Server) handleAction(a action) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d, ih := s.cfg.Daemon, infoHash(r)
		var err error
		switch a {
		case actionPause:
			err = d.Pause(ih)
		case actionResume:
			err = d.Resume(ih)
		case actionRecheck:
			err = d.Recheck(ih)
		}
		if err != nil {
			s.writeDaemonError(w, err)
			return
		}
		st, err := d.Get(ih)
		if err != nil {
			s.writeDaemonError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, st)
	}
}

func (s *Server) handleSetLimits(w http.ResponseWriter, r *http.Request) {
	var l daemon.Limits
	if err := decodeJSON(http.MaxBytesReader(w, r.Body, maxBody), &l); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.cfg.Daemon.SetLimits(infoHash(r), l); err != nil {
		s.writeDaemonError(w, err)
		return
	}
	s.handleGet(w, r)
}

func (s *Server) handleFiles(w http.ResponseWriter, r *http.Request) {
	files, err := s.cfg.Daemon.Files(infoHash(r))
	if err != nil {
		s.writeDaemonError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, files)
}

func (s *Server) handlePeers(w http.ResponseWriter, r *http.Request) {
	peers, err := s.cfg.Daemon.Peers(infoHash(r))
	if err != nil {
		s.writeDaemonError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, peers)
}

func (s *Server) handlePieces(w http.ResponseWriter, r *http.Request) {
	p, err := s.cfg.Daemon.Pieces(infoHash(r))
	if err != nil {
		s.writeDaemonError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (s *Server) handleChoke(w http.ResponseWriter, r *http.Request) {
	log, err := s.cfg.Daemon.ChokeLog(infoHash(r))
	if err != nil {
		s.writeDaemonError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, log)
}

func (s *Server) handleSettings(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.cfg.Daemon.Settings())
}

func (s *Server) handleSetSettings(w http.ResponseWriter, r *http.Request) {
	var st daemon.Settings
	if err := decodeJSON(http.MaxBytesReader(w, r.Body, maxBody), &st); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.cfg.Daemon.SetSettings(st); err != nil {
		s.writeDaemonError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.cfg.Daemon.Settings())
}

func (s *Server) handleStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.cfg.Daemon.Totals())
}
