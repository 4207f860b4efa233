package tracker_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/tracker"
	"github.com/swarm-bt/swarm/tracker/trackertest"
)

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://t.example:6969/announce", "http://t.example:6969/announce"},
		{"https://t.example/a1b2c3/announce?passkey=SECRET", "https://t.example/a1b2c3/announce"},
		{"http://user:pw@t.example/announce", "http://t.example/announce"},
		{"http://t.example/announce?info_hash=%01&peer_id=-SW0100-x&key=12345678", "http://t.example/announce"},
		{"udp://t.example:1337/announce#frag", "udp://t.example:1337/announce"},
		{"not a url?passkey=SECRET", "not a url"},
		{"http://pw@[::1/announce?key=SECRET", "[::1/announce"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, tracker.Redact(tc.in), tc.in)
	}
}

// TestAnnounceErrorsRedacted: an announce error names the tracker by host and path only:
// never the passkey in its query, nor the peer_id and key we send (regression: a failed
// announce logged the whole request URL).
func TestAnnounceErrorsRedacted(t *testing.T) {
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer refuse.Close()
	fail := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("d14:failure reason6:deniede"))
	}))
	defer fail.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close() // connection refused: the http client's error quotes the request URL
	for _, base := range []string{refuse.URL, fail.URL, closed.URL} {
		announce := base + "/announce?passkey=SECRET"
		c, err := tracker.NewClient(tracker.ClientConfig{Tiers: [][]string{{announce}}})
		require.NoError(t, err)
		_, err = c.Announce(context.Background(), tracker.AnnounceRequest{
			InfoHash: trackertest.Hash(1), PeerID: trackertest.ID(7), Port: 1, Left: 1,
		})
		require.Error(t, err)
		msg := err.Error()
		assert.Contains(t, msg, base+"/announce")
		for _, secret := range []string{"SECRET", "peer_id", "key=", "info_hash"} {
			assert.NotContains(t, msg, secret)
		}
	}
}
