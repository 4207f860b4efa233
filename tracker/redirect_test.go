package tracker_test

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/tracker"
	"github.com/swarm-bt/swarm/tracker/trackertest"
)

// fakeWeb answers every request in process (nothing leaves the machine): URLs in redirects
// are sent on with a 302, anything else gets an empty announce reply. It records each URL
// requested.
type fakeWeb struct {
	redirects map[string]string
	mu        sync.Mutex
	seen      []string
}

func (f *fakeWeb) RoundTrip(r *http.Request) (*http.Response, error) {
	u := r.URL.Scheme + "://" + r.URL.Host + r.URL.Path
	f.mu.Lock()
	f.seen = append(f.seen, u)
	f.mu.Unlock()
	h := http.Header{}
	code, body := http.StatusOK, "d8:intervali60e5:peers0:e"
	if to, ok := f.redirects[u]; ok {
		code, body = http.StatusFound, ""
		h.Set("Location", to+"?"+r.URL.RawQuery)
	}
	return &http.Response{StatusCode: code, Header: h, Body: io.NopCloser(strings.NewReader(body)), Request: r,
		ContentLength: int64(len(body)), Status: http.StatusText(code)}, nil
}

// A tracker in a torrent redirects announces: the client follows a few hops to http(s) only,
// and never from a public tracker to this machine or its private network (issue 19).
func TestClientRedirects(t *testing.T) {
	chain := map[string]string{}
	for i := range 6 {
		chain["http://hop"+itoa(i)+".example/announce"] = "http://hop" + itoa(i+1) + ".example/announce"
	}
	tests := []struct {
		name, from, to string
		ok             bool
	}{
		{"public to public", "http://a.example/announce", "https://b.example/announce", true},
		{"local to local", "http://127.0.0.1:6969/announce", "http://127.0.0.2:6969/announce", true},
		{"public to loopback", "http://a.example/announce", "http://127.0.0.1:8080/announce", false},
		{"public to loopback v6", "http://a.example/announce", "http://[::1]:8080/announce", false},
		{"public to mapped loopback", "http://a.example/announce", "http://[::ffff:127.0.0.1]:8080/announce", false},
		{"public to localhost", "http://a.example/announce", "http://localhost:8080/announce", false},
		{"public to private", "http://a.example/announce", "http://10.0.0.1/announce", false},
		{"public to router", "http://a.example/announce", "http://192.168.1.1/announce", false},
		{"public to link-local", "http://a.example/announce", "http://169.254.169.254/latest", false},
		{"to another scheme", "http://a.example/announce", "ftp://b.example/announce", false},
		{"too many hops", "http://hop0.example/announce", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			web := &fakeWeb{redirects: chain}
			if tc.to != "" {
				web.redirects = map[string]string{tc.from: tc.to}
			}
			c, err := tracker.NewClient(tracker.ClientConfig{Tiers: [][]string{{tc.from}},
				HTTPClient: &http.Client{Transport: web}})
			require.NoError(t, err)
			_, err = c.AnnounceTo(t.Context(), tc.from, tracker.AnnounceRequest{InfoHash: trackertest.Hash(1), Port: 1})
			if tc.ok {
				require.NoError(t, err)
				assert.Len(t, web.seen, 2)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "redirect refused")
			for _, u := range web.seen {
				assert.False(t, strings.Contains(u, "127.0.0.1") || strings.Contains(u, "10.0.0.1") ||
					strings.Contains(u, "localhost") || strings.Contains(u, "192.168") || strings.Contains(u, "169.254"),
					"requested %s", u)
			}
			assert.LessOrEqual(t, len(web.seen), 4, "at most 3 redirects followed")
		})
	}
}
