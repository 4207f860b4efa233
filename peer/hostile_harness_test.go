package peer_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/bitfield"
	"github.com/swarm-bt/swarm/peer/peertest"
	"github.com/swarm-bt/swarm/peer/wire"
)

// This file is the harness of the hostile-peer and fault tests: a recording logger, engine
// nodes with short timeouts, and a scripted peer that speaks the wire protocol by hand.

// Short engine timeouts, so that deadlines fire within seconds of (fake) time.
const (
	hHandshake = 2 * time.Second
	hRequest   = 3 * time.Second
	hIdle      = 10 * time.Second
)

// hostileTimeouts makes swarms find each other quickly and give up on bad peers quickly.
func hostileTimeouts(c *peer.Config) {
	c.Timeouts.Handshake = hHandshake
	c.Timeouts.Request = hRequest
	c.Timeouts.Idle = hIdle
	c.Timeouts.MinAnnounce = 200 * time.Millisecond
	c.Timeouts.RedialMin = 100 * time.Millisecond
	c.Timeouts.RedialMax = time.Second
}

// seeded gives the engine a fixed random source.
func seeded(seed uint64) func(*peer.Config) {
	return func(c *peer.Config) { c.Rand = rand.New(rand.NewPCG(seed, seed+1)) }
}

// uploadLimit caps a node's upload rate.
func uploadLimit(bps rate.Limit) func(*peer.Config) {
	return func(c *peer.Config) { c.UploadLimiter = peer.NewLimiter(bps) }
}

// configure chains config adjustments after hostileTimeouts.
func configure(fs ...func(*peer.Config)) func(*peer.Config) {
	return func(c *peer.Config) {
		hostileTimeouts(c)
		for _, f := range fs {
			f(c)
		}
	}
}

// hNode starts an engine for the test (on net when it is not nil) and stops it at cleanup.
func hNode(t *testing.T, nw *peertest.Network, tor *peertest.Torrent, opt peertest.Options) *peertest.Node {
	t.Helper()
	opt.Network = nw
	if opt.Logger == nil {
		opt.Logger = envLogger()
	}
	if opt.Configure == nil {
		opt.Configure = hostileTimeouts
	}
	n, err := peertest.Start(t.Context(), tor, opt)
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Stop() })
	return n
}

// envLogger prints the engines' debug logs when SWARM_TEST_LOG is set; nil discards them.
func envLogger() *slog.Logger {
	if os.Getenv("SWARM_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// awaitComplete waits (in fake or real time) for n to verify every piece.
func awaitComplete(t *testing.T, n *peertest.Node, timeout time.Duration) {
	t.Helper()
	select {
	case <-n.Swarm.Completed():
	case <-time.After(timeout):
		t.Fatalf("download not complete after %v: %+v", timeout, n.Swarm.Stats())
	case <-n.Done():
		t.Fatalf("swarm stopped before completing: %v", n.Err())
	}
}

// poll checks cond every 50 ms until it holds or timeout passes.
func poll(timeout time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); {
		if cond() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return cond()
}

// recorder is a slog.Handler that keeps every record, so that tests can check the reason
// logged when a peer is dropped or banned.
type recorder struct {
	mu   *sync.Mutex
	recs *[]string
	with string
}

func newRecorder() *recorder { return &recorder{mu: &sync.Mutex{}, recs: &[]string{}} }

func (r *recorder) logger() *slog.Logger { return slog.New(r) }

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q%s", rec.Level, rec.Message, r.with)
	rec.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	r.mu.Lock()
	*r.recs = append(*r.recs, b.String())
	r.mu.Unlock()
	if os.Getenv("SWARM_TEST_LOG") != "" {
		fmt.Fprintln(os.Stderr, b.String())
	}
	return nil
}

func (r *recorder) WithAttrs(as []slog.Attr) slog.Handler {
	c := *r
	for _, a := range as {
		c.with += fmt.Sprintf(" %s=%v", a.Key, a.Value)
	}
	return &c
}

func (r *recorder) WithGroup(string) slog.Handler { return r }

// find returns the first record that contains every one of parts, or "".
func (r *recorder) find(parts ...string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range *r.recs {
		if containsAll(s, parts) {
			return s
		}
	}
	return ""
}

func (r *recorder) count(parts ...string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range *r.recs {
		if containsAll(s, parts) {
			n++
		}
	}
	return n
}

func (r *recorder) dump() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(*r.recs, "\n")
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// hostilePeer is a peer scripted by a test over one connection: it sends what the test
// says, valid or not, and reads what the engine sends.
type hostilePeer struct {
	tor *peertest.Torrent
	nc  net.Conn
	r   *wire.Reader
	id  [20]byte
}

// hostileID is the peer ID of scripted peers (BEP 20 style, client "XX").
func hostileID(n byte) [20]byte {
	var id [20]byte
	copy(id[:], fmt.Sprintf("-XX0001-hostile%05d", n))
	return id
}

// hostileIP is the address scripted peer n connects from on a peertest network: its own,
// as a real attacker's would be (a ban of its address spares the honest peers).
func hostileIP(n byte) netip.Addr { return netip.AddrFrom4([4]byte{127, 0, 1, n}) }

// dialHostile connects to the engine at to and completes the handshake.
func dialHostile(t *testing.T, nw *peertest.Network, tor *peertest.Torrent, to netip.AddrPort, n byte) *hostilePeer {
	t.Helper()
	h := rawHostile(t, nw, tor, to, n)
	require.NoError(t, wire.WriteHandshake(h.nc, wire.Handshake{InfoHash: tor.InfoHash, PeerID: h.id}))
	hs, err := wire.ReadHandshake(h.nc)
	require.NoError(t, err)
	require.Equal(t, [20]byte(tor.InfoHash), hs.InfoHash)
	return h
}

// rawHostile connects to the engine at to without a handshake.
func rawHostile(t *testing.T, nw *peertest.Network, tor *peertest.Torrent, to netip.AddrPort, n byte) *hostilePeer {
	t.Helper()
	var nc net.Conn
	var err error
	if nw != nil {
		nc, err = nw.DialFrom(hostileIP(n))(t.Context(), "tcp", to.String())
	} else {
		nc, err = net.Dial("tcp", to.String())
	}
	require.NoError(t, err)
	t.Cleanup(func() { _ = nc.Close() })
	return newHostile(tor, nc, n)
}

func newHostile(tor *peertest.Torrent, nc net.Conn, n byte) *hostilePeer {
	return &hostilePeer{tor: tor, nc: nc, id: hostileID(n),
		r: wire.NewReader(nc, wire.Limits{NumPieces: tor.Info.NumPieces()})}
}

// send writes the messages, each in its own Write.
func (h *hostilePeer) send(msgs ...wire.Message) error {
	for _, m := range msgs {
		if _, err := h.nc.Write(wire.AppendMessage(nil, m)); err != nil {
			return err
		}
	}
	return nil
}

// sendRaw writes b as is.
func (h *hostilePeer) sendRaw(b []byte) error {
	_, err := h.nc.Write(b)
	return err
}

// bitfieldMsg is a bitfield message for bf.
func bitfieldMsg(bf bitfield.Bitfield) wire.Message {
	return wire.Message{ID: wire.BitfieldID, Bitfield: append([]byte(nil), bf.Bytes()...)}
}

// errStillOpen is returned by awaitClosed when the engine kept the connection open.
var errStillOpen = errors.New("connection still open")

// awaitClosed reads and discards until the engine closes the connection, or timeout passes
// (errStillOpen). It returns how long the engine took. The engine may still be writing, so
// reading also keeps a net.Pipe from blocking it.
func (h *hostilePeer) awaitClosed(timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	if err := h.nc.SetReadDeadline(start.Add(timeout)); err != nil {
		return 0, nil // a net.Pipe refuses deadlines once the other end closed
	}
	var buf [4096]byte
	for {
		if _, err := h.nc.Read(buf[:]); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return time.Since(start), errStillOpen
			}
			return time.Since(start), nil
		}
	}
}

// serve answers every request of the engine with answer's block (nil: ignore the request)
// until the connection ends; other messages are ignored. It reports the requests seen.
func (h *hostilePeer) serve(answer func(m wire.Message) []byte) (requests int) {
	for {
		m, err := h.r.ReadMessage()
		if err != nil {
			return requests
		}
		if m.ID != wire.Request {
			continue
		}
		requests++
		if b := answer(m); b != nil {
			if h.send(wire.Message{ID: wire.Piece, Index: m.Index, Begin: m.Begin, Block: b}) != nil {
				return requests
			}
		}
	}
}

// block returns the true bytes of a requested block.
func (h *hostilePeer) block(m wire.Message) []byte {
	off := int64(m.Index)*h.tor.Info.PieceLength + int64(m.Begin)
	return append([]byte(nil), h.tor.Payload[off:off+int64(m.Length)]...)
}
