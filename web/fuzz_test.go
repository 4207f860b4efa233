package web

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/swarm-bt/swarm/daemon"
)

// FuzzAdd posts arbitrary JSON bodies to POST /api/v1/torrents: the answer is always one of
// the documented statuses with a JSON body, never a panic or a 500.
func FuzzAdd(f *testing.F) {
	_, raw := testTorrent(f, "fuzz.bin")
	f.Add(addBodyBytes(f, raw, ""))
	f.Add([]byte(`{"magnet":"magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567"}`))
	f.Add([]byte(`{"torrent":"ZDQ6aW5mb2RlZQ==","save_dir":"/etc"}`))
	f.Add([]byte(`{"limits":{"up_rate":-5}}`))
	f.Add([]byte(`[]`))
	d, err := daemon.New(daemon.Config{Dir: f.TempDir(), Bind: "127.0.0.1", Port: 0, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	s, err := New(Config{Daemon: d, Token: testToken, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/api/v1/torrents", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set(CSRFHeader, "1")
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusCreated, http.StatusBadRequest, http.StatusForbidden, http.StatusConflict, http.StatusNotImplemented:
		default:
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body)
		}
		if w.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("content type %q", w.Header().Get("Content-Type"))
		}
	})
}
