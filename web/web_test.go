package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/daemon"
	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer/peertest"
)

const testToken = "0123456789abcdef0123456789abcdef"

// env is a daemon behind a test server.
type env struct {
	d   *daemon.Daemon
	srv *httptest.Server
	dir string
}

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	dir := t.TempDir()
	reg := prometheus.NewRegistry()
	d, err := daemon.New(daemon.Config{Dir: dir, Bind: "127.0.0.1", Registerer: reg, Logger: slog.New(slog.DiscardHandler), Tick: 50 * time.Millisecond})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	cfg.Daemon, cfg.Gatherer, cfg.Logger = d, reg, slog.New(slog.DiscardHandler)
	if cfg.Token == "" {
		cfg.Token = testToken
	}
	s, err := New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		srv.Close()
		cancel()
		require.NoError(t, <-done)
	})
	return &env{d: d, srv: srv, dir: dir}
}

// req builds a request; opts adjust it (auth, CSRF header...).
func (e *env) req(t *testing.T, method, path string, body io.Reader, opts ...func(*http.Request)) *http.Response {
	t.Helper()
	r, err := http.NewRequest(method, e.srv.URL+path, body)
	require.NoError(t, err)
	for _, o := range opts {
		o(r)
	}
	resp, err := e.srv.Client().Do(r)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func bearer(r *http.Request) { r.Header.Set("Authorization", "Bearer "+testToken) }
func csrf(r *http.Request)   { r.Header.Set(CSRFHeader, "1") }
func jsonCT(r *http.Request) { r.Header.Set("Content-Type", "application/json") }
func host(h string) func(*http.Request) {
	return func(r *http.Request) { r.Host = h }
}
func header(k, v string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set(k, v) }
}

func decode[T any](t *testing.T, resp *http.Response) T {
	t.Helper()
	var v T
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&v))
	return v
}

func testTorrent(t testing.TB, name string) (*metainfo.MetaInfo, []byte) {
	t.Helper()
	payload := peertest.Payload(100<<10, 9)
	mi, err := metainfo.CreateFromReader(context.Background(), bytes.NewReader(payload), int64(len(payload)), name,
		metainfo.CreateConfig{PieceLength: 16 << 10, NoDate: true})
	require.NoError(t, err)
	raw, err := mi.Marshal()
	require.NoError(t, err)
	return mi, raw
}

func addBody(t testing.TB, raw []byte, saveDir string) io.Reader {
	return bytes.NewReader(addBodyBytes(t, raw, saveDir))
}

func addBodyBytes(t testing.TB, raw []byte, saveDir string) []byte {
	t.Helper()
	b, err := json.Marshal(addJSON{Torrent: base64.StdEncoding.EncodeToString(raw), SaveDir: saveDir})
	require.NoError(t, err)
	return b
}

func TestHostAllowlist(t *testing.T) {
	e := newEnv(t, Config{Addr: "127.0.0.1:9091", AllowHosts: []string{"nas.local"}})
	cases := []struct {
		host string
		code int
	}{
		{"127.0.0.1:9091", http.StatusOK},
		{"localhost:9091", http.StatusOK},
		{"LOCALHOST", http.StatusOK},
		{"[::1]:9091", http.StatusOK},
		{"nas.local:9091", http.StatusOK},
		{"evil.example:9091", http.StatusMisdirectedRequest},
		{"127.0.0.1.evil.example", http.StatusMisdirectedRequest},
	}
	for _, tc := range cases {
		t.Run(tc.host, func(t *testing.T) {
			resp := e.req(t, http.MethodGet, "/api/v1/torrents", nil, bearer, host(tc.host))
			assert.Equal(t, tc.code, resp.StatusCode)
			// The page and the login are behind the same check.
			resp = e.req(t, http.MethodGet, "/login?token="+testToken, nil, host(tc.host))
			if tc.code == http.StatusOK {
				assert.NotEqual(t, http.StatusMisdirectedRequest, resp.StatusCode)
			} else {
				assert.Equal(t, tc.code, resp.StatusCode)
			}
		})
	}
}

func TestAuth(t *testing.T) {
	e := newEnv(t, Config{LoginRate: 0.001, LoginBurst: 3})
	t.Run("no token", func(t *testing.T) {
		resp := e.req(t, http.MethodGet, "/api/v1/torrents", nil)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Equal(t, `Bearer realm="swarm"`, resp.Header.Get("WWW-Authenticate"))
	})
	t.Run("events and metrics need it too", func(t *testing.T) {
		assert.Equal(t, http.StatusUnauthorized, e.req(t, http.MethodGet, "/api/v1/events", nil).StatusCode)
		assert.Equal(t, http.StatusUnauthorized, e.req(t, http.MethodGet, "/metrics", nil).StatusCode)
	})
	t.Run("bearer", func(t *testing.T) {
		assert.Equal(t, http.StatusOK, e.req(t, http.MethodGet, "/api/v1/torrents", nil, bearer).StatusCode)
		assert.Equal(t, http.StatusOK, e.req(t, http.MethodGet, "/metrics", nil, bearer).StatusCode)
	})
	t.Run("login cookie", func(t *testing.T) {
		c := e.srv.Client()
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := c.Get(e.srv.URL + "/login?token=" + testToken)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusSeeOther, resp.StatusCode)
		assert.Equal(t, "/", resp.Header.Get("Location"))
		cookies := resp.Cookies()
		require.Len(t, cookies, 1)
		ck := cookies[0]
		assert.True(t, ck.HttpOnly)
		assert.Equal(t, http.SameSiteStrictMode, ck.SameSite)
		assert.NotContains(t, ck.Value, testToken, "the cookie must not be the token")
		resp = e.req(t, http.MethodGet, "/api/v1/torrents", nil, func(r *http.Request) { r.AddCookie(ck) })
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		bad := *ck
		bad.Value = strings.Repeat("0", len(ck.Value))
		resp = e.req(t, http.MethodGet, "/api/v1/torrents", nil, func(r *http.Request) { r.AddCookie(&bad) })
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	})
	t.Run("failed logins are rate limited", func(t *testing.T) {
		// One failure was charged above (the bad cookie); two more use up the burst of 3.
		for range 2 {
			assert.Equal(t, http.StatusUnauthorized, e.req(t, http.MethodGet, "/login?token=wrong", nil).StatusCode)
		}
		assert.Equal(t, http.StatusTooManyRequests, e.req(t, http.MethodGet, "/login?token=wrong", nil).StatusCode)
		// While limited even the right token is not checked: guessing cannot go faster.
		assert.Equal(t, http.StatusTooManyRequests, e.req(t, http.MethodGet, "/login?token="+testToken, nil).StatusCode)
		assert.Equal(t, http.StatusTooManyRequests, e.req(t, http.MethodGet, "/api/v1/torrents", nil, header("Authorization", "Bearer nope")).StatusCode)
	})
}

func TestCrossSiteRefused(t *testing.T) {
	e := newEnv(t, Config{})
	_, raw := testTorrent(t, "x.bin")
	cookie := func(r *http.Request) { r.AddCookie(&http.Cookie{Name: cookieName, Value: mustServer(t).cookie}) }
	cases := []struct {
		name string
		opts []func(*http.Request)
		code int
	}{
		{"cookie without CSRF header (a cross-site form)", []func(*http.Request){cookie, jsonCT}, http.StatusForbidden},
		{"bearer without CSRF header", []func(*http.Request){bearer, jsonCT}, http.StatusForbidden},
		{"foreign Origin", []func(*http.Request){cookie, csrf, jsonCT, header("Origin", "http://evil.example")}, http.StatusForbidden},
		{"Sec-Fetch-Site cross-site", []func(*http.Request){cookie, csrf, jsonCT, header("Sec-Fetch-Site", "cross-site")}, http.StatusForbidden},
		{"same origin page", []func(*http.Request){cookie, csrf, jsonCT, header("Sec-Fetch-Site", "same-origin")}, http.StatusCreated},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.req(t, http.MethodPost, "/api/v1/torrents", addBody(t, raw, ""), tc.opts...)
			assert.Equal(t, tc.code, resp.StatusCode)
		})
	}
	// Form posts of any kind are refused without the header.
	resp := e.req(t, http.MethodPost, "/api/v1/torrents", strings.NewReader("magnet=x"), cookie, header("Content-Type", "application/x-www-form-urlencoded"))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
}

// mustServer builds a Server with the test token, for its cookie value.
func mustServer(t *testing.T) *Server {
	t.Helper()
	d, err := daemon.New(daemon.Config{Dir: t.TempDir(), Bind: "127.0.0.1", Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	s, err := New(Config{Daemon: d, Token: testToken})
	require.NoError(t, err)
	return s
}

func TestSaveDirOutsideRootsRefused(t *testing.T) {
	e := newEnv(t, Config{})
	_, raw := testTorrent(t, "y.bin")
	for _, dir := range []string{"/etc", t.TempDir(), filepath.Join(e.dir, "downloads", "..", ".."), "relative/dir"} {
		resp := e.req(t, http.MethodPost, "/api/v1/torrents", addBody(t, raw, dir), bearer, csrf, jsonCT)
		assert.Equal(t, http.StatusForbidden, resp.StatusCode, dir)
		assert.Contains(t, decode[errorBody](t, resp).Error, "not allowed")
	}
	assert.Empty(t, e.d.List())
}

func TestLoadToken(t *testing.T) {
	p := filepath.Join(t.TempDir(), "token")
	tok, err := LoadToken(p)
	require.NoError(t, err)
	assert.Len(t, tok, 64)
	fi, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	again, err := LoadToken(p)
	require.NoError(t, err)
	assert.Equal(t, tok, again)
	require.NoError(t, os.Chmod(p, 0o644))
	_, err = LoadToken(p)
	assert.ErrorContains(t, err, "readable by others")
}

// readEvent reads one SSE event (name and data) from r.
func readEvent(t *testing.T, r *bufio.Reader) (string, []byte) {
	t.Helper()
	var name string
	for {
		line, err := r.ReadString('\n')
		require.NoError(t, err)
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			return name, []byte(strings.TrimPrefix(line, "data: "))
		}
	}
}
