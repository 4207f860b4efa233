package tracker_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/tracker"
)

// Bad input to the tracker that handlers_test.go does not already try: duplicated keys, odd
// encodings, huge numbers, overlong URLs, slow clients, and a flood of random info-hashes.
// docs/reliability.md lists them.

// hostileServer is a tracker with discarded logs.
func hostileServer(t *testing.T, cfg tracker.Config) *tracker.Server {
	t.Helper()
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.Rand = rand.New(rand.NewPCG(3, 4))
	s, err := tracker.New(cfg)
	require.NoError(t, err)
	return s
}

// hostileGet sends target to h and returns the status and the decoded bencoded reply.
func hostileGet(t *testing.T, h http.Handler, target string) (int, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.URL.RawQuery = strings.TrimPrefix(target, "/announce?")
	r.RequestURI = target
	r.RemoteAddr = "192.0.2.9:4000"
	if strings.HasPrefix(target, "/scrape") {
		r.URL.Path, r.URL.RawQuery, _ = strings.Cut(target, "?")
	} else {
		r.URL.Path = "/announce"
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var reply map[string]any
	require.NoError(t, bencode.Unmarshal(w.Body.Bytes(), &reply), "reply to %q is not bencode: %q", target, w.Body.String())
	return w.Code, reply
}

const (
	hHash = "%01%02%03%04%05%06%07%08%09%0A%0B%0C%0D%0E%0F%10%11%12%13%14"
	hID   = "-SW0001-abcdefghijkl"
	hOK   = "info_hash=" + hHash + "&peer_id=" + hID + "&port=6881&uploaded=0&downloaded=0&left=0"
)

func TestHostileAnnounceQueries(t *testing.T) {
	other := strings.Replace(hHash, "%01", "%FF", 1)
	tests := []struct {
		name, query string
		failure     string // "" means any answer is fine as long as it is a bencoded reply
	}{
		{"two different info_hash", hOK + "&info_hash=" + other, ""},
		{"two different peer_id", hOK + "&peer_id=-SW0001-zzzzzzzzzzzz", ""},
		{"two ports", hOK + "&port=1", ""},
		{"two events", hOK + "&event=started&event=stopped", ""},
		{"info_hash of 10 two-byte UTF-8 characters", strings.Replace(hOK, hHash, strings.Repeat("%C3%A9", 10), 1), ""},
		{"info_hash of 11 two-byte UTF-8 characters", strings.Replace(hOK, hHash, strings.Repeat("%C3%A9", 11), 1), "info_hash must be 20 bytes"},
		{"info_hash as hex", strings.Replace(hOK, hHash, strings.Repeat("ab", 20), 1), "info_hash must be 20 bytes"},
		{"NUL in peer_id", strings.Replace(hOK, hID, "-SW0001-%00%00%00%00%00%00%00%00%00%00%00%00", 1), ""},
		{"bad escape in peer_id", strings.Replace(hOK, hID, "-SW0001-abcdefghij%G1", 1), "peer_id"},
		{"semicolon separator", strings.ReplaceAll(hOK, "&", ";"), "info_hash"},
		{"uploaded 2^63", strings.Replace(hOK, "uploaded=0", "uploaded=9223372036854775808", 1), "invalid uploaded"},
		{"downloaded 2^64", strings.Replace(hOK, "downloaded=0", "downloaded=18446744073709551616", 1), "invalid downloaded"},
		{"left 1e9", strings.Replace(hOK, "left=0", "left=1e9", 1), "invalid left"},
		{"port 2^32+80", strings.Replace(hOK, "port=6881", "port=4294967376", 1), "invalid port"},
		{"numwant 10^20", hOK + "&numwant=100000000000000000000", ""},
		{"numwant negative", hOK + "&numwant=-5", ""},
		{"compact 7", hOK + "&compact=7", ""},
		{"ip of 10 KB", hOK + "&ip=" + strings.Repeat("9", 10<<10), ""},
		{"key of 10 KB", hOK + "&key=" + strings.Repeat("k", 10<<10), ""},
		{"empty values", "info_hash=&peer_id=&port=&uploaded=&downloaded=&left=", "info_hash must be 20 bytes"},
		{"keys without values", "info_hash&peer_id&port", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := hostileServer(t, tracker.Config{})
			code, reply := hostileGet(t, s, "/announce?"+tc.query)
			assert.Equal(t, http.StatusOK, code)
			failure, _ := reply["failure reason"].(string)
			if tc.failure != "" {
				assert.Contains(t, failure, tc.failure)
				return
			}
			if failure != "" {
				t.Logf("refused: %s", failure)
				return
			}
			assert.Contains(t, reply, "interval", "an accepted announce gets an interval")
			swarms, peers := storeLen(t, s)
			assert.LessOrEqual(t, swarms, 1)
			assert.LessOrEqual(t, peers, 1, "one announce stores at most one peer")
		})
	}
}

func TestHostileScrapeQueries(t *testing.T) {
	tests := []struct{ name, query string }{
		{"64 copies of one hash", strings.Repeat("info_hash="+hHash+"&", 64)},
		{"hash of 19 bytes", "info_hash=" + strings.TrimSuffix(hHash, "%14")},
		{"hash of 10 KB", "info_hash=" + strings.Repeat("a", 10<<10)},
		{"no hash but other keys", "peer_id=" + hID},
		{"semicolons", "info_hash=" + hHash + ";info_hash=" + hHash},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := hostileServer(t, tracker.Config{})
			code, reply := hostileGet(t, s, "/scrape?"+tc.query)
			assert.Equal(t, http.StatusOK, code)
			files, _ := reply["files"].(map[string]any)
			assert.LessOrEqual(t, len(files), 1, "reply %v", reply)
		})
	}
}

// TestHostileManyInfoHashes: a client announcing many random info-hashes cannot grow the
// store past its caps.
func TestHostileManyInfoHashes(t *testing.T) {
	const n, maxSwarms = 20_000, 500
	s := hostileServer(t, tracker.Config{MaxSwarms: maxSwarms, MaxPeersPerSwarm: 10})
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	rng := rand.New(rand.NewPCG(9, 9))
	full := 0
	for i := range n {
		var h [20]byte
		for k := range h {
			h[k] = byte(rng.Uint32())
		}
		q := url.Values{"info_hash": {string(h[:])}, "peer_id": {fmt.Sprintf("-XX0001-%012d", i)},
			"port": {"6881"}, "uploaded": {"0"}, "downloaded": {"0"}, "left": {"1"}}
		_, reply := hostileGet(t, s, "/announce?"+q.Encode())
		if f, _ := reply["failure reason"].(string); f != "" {
			full++
		}
	}
	swarms, peers := storeLen(t, s)
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d announces: %d swarms, %d peers stored, %d refused, heap grew %d KiB", n, swarms, peers, full, grown>>10)
	assert.LessOrEqual(t, swarms, maxSwarms)
	assert.LessOrEqual(t, peers, maxSwarms)
	assert.Equal(t, n-swarms, full, "announces past the cap are refused with a failure reason")
	assert.Less(t, grown, int64(8<<20), "memory must not grow with the number of info-hashes")
}

// pipeListener is a net.Listener of net.Pipe connections, so that a real http.Server runs
// inside a synctest bubble with fake time.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 6969} }

func (l *pipeListener) dial() (net.Conn, error) {
	c1, c2 := net.Pipe()
	select {
	case l.conns <- &remoteConn{c2}:
		return c1, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// remoteConn gives the server side of a pipe a TCP remote address.
type remoteConn struct{ net.Conn }

func (c *remoteConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 5555}
}

// serveInBubble runs s.Serve on a pipe listener until the test ends.
func serveInBubble(t *testing.T, s *tracker.Server) *pipeListener {
	l := newPipeListener()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- s.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})
	return l
}

// awaitHangUp reads until the server closes c; it returns what was read and how long it took.
func awaitHangUp(c net.Conn, timeout time.Duration) (string, time.Duration, error) {
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(timeout))
	b, err := io.ReadAll(c)
	if errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrClosedPipe) {
		err = nil
	}
	return string(b), time.Since(start), err
}

func TestHostileSlowClients(t *testing.T) {
	tests := []struct {
		name   string
		script func(c net.Conn) // what the client does; the server must hang up
		within time.Duration
	}{
		{"silent after connecting", func(net.Conn) {}, 6 * time.Second},
		{"headers one byte a second", func(c net.Conn) {
			for _, b := range []byte("GET /announce?" + hOK + " HTTP/1.1\r\nHost: x\r\n") {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(time.Second)
			}
		}, 6 * time.Second},
		{"endless header lines", func(c net.Conn) {
			_, _ = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
			for i := 0; ; i++ {
				if _, err := fmt.Fprintf(c, "X-%d: %s\r\n", i, strings.Repeat("a", 100)); err != nil {
					return
				}
			}
		}, 6 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := serveInBubble(t, hostileServer(t, tracker.Config{}))
				c, err := l.dial()
				require.NoError(t, err)
				defer c.Close()
				scripted := make(chan struct{})
				go func() { defer close(scripted); tc.script(c) }()
				reply, took, err := awaitHangUp(c, time.Minute)
				require.NoError(t, err, "the server must hang up")
				t.Logf("hung up after %v, answering %q", took, firstLine(reply))
				assert.LessOrEqual(t, took, tc.within)
				_ = c.Close()
				<-scripted
			})
		})
	}
}

func TestHostileOverlongURL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := hostileServer(t, tracker.Config{})
		l := serveInBubble(t, s)
		c, err := l.dial()
		require.NoError(t, err)
		defer c.Close()
		go func() {
			_, _ = fmt.Fprintf(c, "GET /announce?%s&pad=%s HTTP/1.1\r\nHost: x\r\n\r\n", hOK, strings.Repeat("p", 1<<20))
		}()
		status, err := bufio.NewReader(c).ReadString('\n')
		require.NoError(t, err)
		assert.Contains(t, status, "431", "an overlong request line is refused by size")
		swarms, peers := storeLen(t, s)
		assert.Zero(t, swarms+peers)

		c2, err := l.dial() // and the server still serves
		require.NoError(t, err)
		defer c2.Close()
		go func() { _, _ = io.WriteString(c2, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") }()
		reply, _, err := awaitHangUp(c2, time.Minute)
		require.NoError(t, err)
		assert.Contains(t, firstLine(reply), "200")
	})
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}

// TestHostileClientNeverReads: a client that sends requests and never reads the replies is
// cut off by the server's 10 s timeouts instead of holding a goroutine for ever.
func TestHostileClientNeverReads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := serveInBubble(t, hostileServer(t, tracker.Config{}))
		c, err := l.dial()
		require.NoError(t, err)
		defer c.Close()
		go func() { _, _ = io.WriteString(c, "GET /announce?"+hOK+" HTTP/1.1\r\nHost: x\r\n\r\n") }()
		start := time.Now()
		for {
			time.Sleep(time.Second)
			_ = c.SetWriteDeadline(time.Now().Add(time.Millisecond))
			_, err := io.WriteString(c, "x")
			if errors.Is(err, io.ErrClosedPipe) {
				break
			}
			require.Less(t, time.Since(start), time.Minute, "the server still holds the connection")
		}
		t.Logf("cut off after %v", time.Since(start))
		assert.LessOrEqual(t, time.Since(start), 11*time.Second)
	})
}
