package tracker

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// maxRedirects is how many redirects an announce or scrape follows; libtorrent and curl's
// defaults for trackers are of this order, and one or two is all a moved tracker needs.
const maxRedirects = 3

// errRedirect is wrapped by every refused redirect.
var errRedirect = errors.New("tracker: redirect refused")

// withRedirectPolicy returns a copy of hc (or a default client) that follows only safe
// redirects: see checkRedirect.
func withRedirectPolicy(hc *http.Client) *http.Client {
	c := *hc
	c.CheckRedirect = checkRedirect
	return &c
}

// checkRedirect allows at most maxRedirects hops, to http and https only, and never from a
// tracker on a public address to a loopback, private or link-local one: otherwise any
// tracker in a torrent could make every client that announces to it send requests to
// services on the client's own machine or network.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return fmt.Errorf("%w: more than %d redirects", errRedirect, maxRedirects)
	}
	if s := req.URL.Scheme; s != "http" && s != "https" {
		return fmt.Errorf("%w: scheme %q", errRedirect, s)
	}
	if isLocalHost(req.URL.Hostname()) && !isLocalHost(via[0].URL.Hostname()) {
		return fmt.Errorf("%w: from a public tracker to local address %s", errRedirect, req.URL.Hostname())
	}
	return nil
}

// isLocalHost reports whether host names this machine or a private network: loopback,
// private (RFC 1918, RFC 4193), link-local and unspecified addresses, and localhost. Other
// host names count as public; a name that resolves to a private address is not caught here.
func isLocalHost(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(h)
	if err != nil {
		return false
	}
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsUnspecified() || a.IsInterfaceLocalMulticast()
}
