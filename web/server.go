// Package web serves a daemon over HTTP: the JSON API under /api/v1, a Server-Sent Events
// stream, Prometheus /metrics and the embedded live page. It holds no engine logic.
//
// Security, since the daemon controls a machine's disk: every request's Host must be one the
// daemon serves (against DNS rebinding); every API call needs the token, as a Bearer header
// or as the cookie that the one-time login URL sets (HttpOnly, SameSite=Strict); calls that
// change state also need the X-Swarm-Request header, which a cross-site form cannot send;
// failed logins are rate limited; and nothing in the API runs commands.
package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/swarm-bt/swarm/daemon"
)

// Config configures a Server.
type Config struct {
	Daemon *daemon.Daemon
	// Token is the API secret (LoadToken makes and keeps one).
	Token string
	// Addr is the address the server listens on (host:port): its host is allowed in Host
	// headers and the login URL points at it.
	Addr string
	// AllowHosts are further names allowed in Host headers (e.g. a reverse proxy's).
	AllowHosts []string
	// Gatherer serves /metrics; nil means no /metrics.
	Gatherer prometheus.Gatherer
	Logger   *slog.Logger
	// LoginRate and LoginBurst bound failed logins (wrong token) per second; defaults 1 and 5.
	LoginRate  rate.Limit
	LoginBurst int
}

// Server is the HTTP front of a daemon. Its handler is safe for concurrent use.
type Server struct {
	cfg     Config
	log     *slog.Logger
	hosts   map[string]bool
	cookie  string // the session cookie's value: derived from the token, never the token
	failed  *rate.Limiter
	handler http.Handler
}

// CSRFHeader must be present (any value) on every request that changes state. Browsers only
// let a page send such a header to its own origin (a cross-site request with it needs a CORS
// preflight, which this server never grants).
const CSRFHeader = "X-Swarm-Request"

// cookieName is the session cookie.
const cookieName = "swarm_session"

// New returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Daemon == nil || len(cfg.Token) < 16 {
		return nil, errors.New("web: need a daemon and a token of at least 16 characters")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.LoginRate <= 0 {
		cfg.LoginRate = 1
	}
	if cfg.LoginBurst <= 0 {
		cfg.LoginBurst = 5
	}
	s := &Server{cfg: cfg, log: cfg.Logger, hosts: map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true},
		failed: rate.NewLimiter(cfg.LoginRate, cfg.LoginBurst)}
	if host, _, err := net.SplitHostPort(cfg.Addr); err == nil && host != "" {
		if ip := net.ParseIP(host); ip == nil || !ip.IsUnspecified() {
			s.hosts[strings.ToLower(host)] = true
		}
	}
	for _, h := range cfg.AllowHosts {
		s.hosts[strings.ToLower(strings.Trim(h, "[]"))] = true
	}
	mac := hmac.New(sha256.New, []byte(cfg.Token))
	mac.Write([]byte("swarm web session v1"))
	s.cookie = hex.EncodeToString(mac.Sum(nil))
	s.handler = s.routes()
	return s, nil
}

// Handler returns the server's handler.
func (s *Server) Handler() http.Handler { return s.handler }

// LoginURL is the URL that logs a browser in: print it for the user, once.
func (s *Server) LoginURL() string {
	host := s.cfg.Addr
	if h, port, err := net.SplitHostPort(host); err == nil {
		if ip := net.ParseIP(h); h == "" || ip != nil && ip.IsUnspecified() {
			host = net.JoinHostPort("127.0.0.1", port)
		}
	}
	return "http://" + host + "/login?token=" + url.QueryEscape(s.cfg.Token)
}

// LoadToken reads the token in path, or creates one (32 random bytes, hex, mode 0600) when the
// file does not exist. A token file readable by others is refused.
func LoadToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		var raw [32]byte
		_, _ = rand.Read(raw[:]) // never fails (crypto/rand documents it)
		tok := hex.EncodeToString(raw[:])
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return "", fmt.Errorf("create token: %w", err)
		}
		_, werr := f.WriteString(tok + "\n")
		if werr == nil {
			werr = f.Sync()
		}
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return "", fmt.Errorf("create token: %w", werr)
		}
		return tok, nil
	}
	if err != nil {
		return "", fmt.Errorf("read token: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("read token: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("token file %s is readable by others (mode %v): chmod 600 it", path, fi.Mode().Perm())
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) < 16 {
		return "", fmt.Errorf("token file %s: token too short", path)
	}
	return tok, nil
}
