package web

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// checkHost refuses requests whose Host is not one the daemon serves: a page on an attacker's
// domain that re-resolves to 127.0.0.1 (DNS rebinding) still sends its own name.
func (s *Server) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if !s.hosts[strings.ToLower(strings.Trim(host, "[]"))] {
			s.log.Warn("request refused: host not allowed", "host", r.Host, "remote", r.RemoteAddr)
			writeError(w, http.StatusMisdirectedRequest, "host not allowed: start the daemon with --allow-host "+host+" to serve it")
			return
		}
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// requireAuth wants the token as a Bearer header or the session cookie, and for calls that
// change state also the CSRF header and, when the browser says where the request comes from,
// the same origin.
func (s *Server) requireAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(w, r) {
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if r.Header.Get(CSRFHeader) == "" {
				writeError(w, http.StatusForbidden, "missing "+CSRFHeader+" header")
				return
			}
			if !sameOrigin(r) {
				writeError(w, http.StatusForbidden, "cross-site request refused")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// authorized checks the credentials and answers 401 or 429 itself when they fail.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	var ok, tried bool
	if s.limited(r) {
		writeError(w, http.StatusTooManyRequests, "too many failed logins: wait and retry")
		return false
	}
	if h := r.Header.Get("Authorization"); h != "" {
		tok, found := strings.CutPrefix(h, "Bearer ")
		tried, ok = true, found && s.tokenMatches(tok)
	} else if c, err := r.Cookie(cookieName); err == nil {
		tried, ok = true, subtle.ConstantTimeCompare([]byte(c.Value), []byte(s.cookie)) == 1
	}
	if ok {
		return true
	}
	if tried {
		s.failed.Allow() // charge the failure
		s.log.Warn("login failed", "remote", r.RemoteAddr, "path", r.URL.Path)
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="swarm"`)
	writeError(w, http.StatusUnauthorized, "unauthorized: send Authorization: Bearer TOKEN (the token is in the daemon's folder) or log in through the URL it printed")
	return false
}

// limited reports whether failed logins used up their budget: then no credential is even
// checked, so guessing cannot go faster than LoginRate.
func (s *Server) limited(r *http.Request) bool {
	return s.failed.TokensAt(time.Now()) < 1 && (r.Header.Get("Authorization") != "" || r.URL.Path == "/login" || hasCookie(r))
}

func hasCookie(r *http.Request) bool {
	_, err := r.Cookie(cookieName)
	return err == nil
}

func (s *Server) tokenMatches(tok string) bool {
	return subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.Token)) == 1
}

// sameOrigin reports whether a browser request comes from this server's own pages. Requests
// without Origin or Sec-Fetch-Site (scripts, curl) pass: they carry the Bearer token or the
// CSRF header that a cross-site form cannot add.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// handleLogin turns the token in the login URL into the session cookie, then sends the
// browser to the page (dropping the token from the address bar).
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	if s.limited(r) {
		writeError(w, http.StatusTooManyRequests, "too many failed logins: wait and retry")
		return
	}
	if !s.tokenMatches(r.URL.Query().Get("token")) {
		s.failed.Allow() // charge the failure
		s.log.Warn("login failed", "remote", r.RemoteAddr, "path", r.URL.Path)
		writeError(w, http.StatusUnauthorized, "wrong or missing token")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: s.cookie, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Expires: time.Now().Add(365 * 24 * time.Hour),
	})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// handleLogout clears the session cookie.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	w.WriteHeader(http.StatusNoContent)
}
