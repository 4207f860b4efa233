package daemon

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/swarm-bt/swarm/dht"
	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/peertest"
)

// fixture is a torrent with a tracker URL (the daemon only announces when there is one), its
// bytes, and a seeder of it announcing to an in-memory tracker.
type fixture struct {
	mi      *metainfo.MetaInfo
	raw     []byte
	payload []byte
	tracker *peertest.Tracker
}

func newFixture(t *testing.T, name string, size, pieceLen int64, seed uint64) *fixture {
	t.Helper()
	payload := peertest.Payload(size, seed)
	mi, err := metainfo.CreateFromReader(context.Background(), bytes.NewReader(payload), size, name,
		metainfo.CreateConfig{PieceLength: pieceLen, NoDate: true, Announce: [][]string{{"http://127.0.0.1:1/announce"}}})
	require.NoError(t, err)
	raw, err := mi.Marshal()
	require.NoError(t, err)
	tr := peertest.NewTracker()
	tr.Interval = time.Second
	return &fixture{mi: mi, raw: raw, payload: payload, tracker: tr}
}

// seed starts a seeder of f on loopback, stopped at cleanup.
func (f *fixture) seed(t *testing.T, upRate int64) *peertest.Node {
	t.Helper()
	tor := &peertest.Torrent{Meta: f.mi, Info: &f.mi.Info, InfoHash: f.mi.InfoHash, Payload: f.payload}
	n, err := peertest.Start(context.Background(), tor, peertest.Options{Announcer: f.tracker, Seed: true,
		Configure: func(c *peer.Config) {
			if upRate > 0 {
				c.UploadLimiter = peer.NewLimiter(rateOf(upRate))
			}
		}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = n.Stop() })
	return n
}

// running is a daemon run by a test, stopped at cleanup.
type running struct {
	d       *Daemon
	cancel  context.CancelFunc
	done    chan error
	stopped atomic.Bool
}

func startDaemon(t *testing.T, cfg Config) *running {
	t.Helper()
	d, err := New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{d: d, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- d.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *running) stop(t *testing.T) {
	if !r.stopped.CompareAndSwap(false, true) {
		return
	}
	r.cancel()
	select {
	case err := <-r.done:
		require.NoError(t, err)
	case <-time.After(20 * time.Second):
		t.Fatal("daemon did not stop")
	}
}

func testConfig(t *testing.T, dir string, tr *peertest.Tracker) Config {
	return Config{
		Dir: dir, Bind: "127.0.0.1", Tick: 50 * time.Millisecond,
		Logger:       slog.New(slog.DiscardHandler),
		NewAnnouncer: func([][]string) (peer.Announcer, error) { return tr, nil },
		Timeouts:     peer.Timeouts{MinAnnounce: 200 * time.Millisecond, RedialMin: 100 * time.Millisecond},
	}
}

// waitFor polls cond until it holds, failing after a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func stateOf(d *Daemon, ih string) State {
	s, err := d.Get(ih)
	if err != nil {
		return ""
	}
	return s.State
}

func TestDownloadRestartRemove(t *testing.T) {
	f := newFixture(t, "a.bin", 1<<20+333, 32<<10, 1)
	f.seed(t, 0)
	dir := t.TempDir()
	reg := prometheus.NewPedanticRegistry()
	cfg := testConfig(t, dir, f.tracker)
	cfg.Registerer = reg
	r := startDaemon(t, cfg)
	ih := f.mi.InfoHash.String()

	st, err := r.d.Add(AddRequest{Torrent: f.raw})
	require.NoError(t, err)
	assert.Equal(t, ih, st.InfoHash)
	assert.Equal(t, "a.bin", st.Name)
	_, err = r.d.Add(AddRequest{Torrent: f.raw})
	require.ErrorIs(t, err, ErrExists)

	waitFor(t, "seeding", func() bool { return stateOf(r.d, ih) == StateSeeding })
	got, err := os.ReadFile(filepath.Join(dir, "downloads", "a.bin"))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(f.payload, got), "downloaded payload differs")
	st, err = r.d.Get(ih)
	require.NoError(t, err)
	assert.Equal(t, 1.0, st.Progress)
	assert.GreaterOrEqual(t, st.Downloaded, int64(len(f.payload)))
	files, err := r.d.Files(ih)
	require.NoError(t, err)
	require.Len(t, files, 1)
	assert.Equal(t, 1.0, files[0].Progress)
	pcs, err := r.d.Pieces(ih)
	require.NoError(t, err)
	assert.Equal(t, f.mi.Info.NumPieces(), pcs.NumPieces)
	assert.Equal(t, 1, testutil.CollectAndCount(reg, "swarm_torrents"))
	assert.InDelta(t, float64(st.Size), testutil.ToFloat64(mustGauge(t, reg, "swarm_torrent_size_bytes")), 0)

	require.NoError(t, r.d.Pause(ih))
	waitFor(t, "paused", func() bool { return stateOf(r.d, ih) == StatePaused })
	r.stop(t)

	// A restart brings the torrent back, paused, with its totals; resume checks and seeds.
	// The check at resume runs inside the Checking hook (the CLI gives it every core).
	cfg2 := testConfig(t, dir, f.tracker)
	var checksStarted, checksDone atomic.Int32
	cfg2.Checking = func() func() {
		checksStarted.Add(1)
		return func() { checksDone.Add(1) }
	}
	r2 := startDaemon(t, cfg2)
	list := r2.d.List()
	require.Len(t, list, 1)
	assert.Equal(t, ih, list[0].InfoHash)
	assert.GreaterOrEqual(t, list[0].Downloaded, int64(len(f.payload)))
	waitFor(t, "paused after check", func() bool { return stateOf(r2.d, ih) == StatePaused })
	require.NoError(t, r2.d.Resume(ih))
	waitFor(t, "seeding after resume", func() bool { return stateOf(r2.d, ih) == StateSeeding })
	assert.Equal(t, int32(1), checksStarted.Load(), "one resume check")
	assert.Equal(t, int32(1), checksDone.Load(), "its end reported")

	require.NoError(t, r2.d.Remove(context.Background(), ih, true))
	assert.Empty(t, r2.d.List())
	_, err = os.Stat(filepath.Join(dir, "downloads", "a.bin"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = r2.d.Get(ih)
	assert.ErrorIs(t, err, ErrNotFound)
}

func mustGauge(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name {
			return constGauge(mf.GetMetric()[0].GetGauge().GetValue())
		}
	}
	t.Fatalf("no metric %s", name)
	return nil
}

func constGauge(v float64) prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "g"})
	g.Set(v)
	return g
}

func TestAddRefusals(t *testing.T) {
	f := newFixture(t, "b.bin", 64<<10, 16<<10, 2)
	dir := t.TempDir()
	r := startDaemon(t, testConfig(t, dir, f.tracker))
	outside := t.TempDir()
	inside := filepath.Join(dir, "downloads", "sub")
	link := filepath.Join(dir, "downloads", "escape")
	require.NoError(t, os.Symlink(outside, link))
	cases := []struct {
		name string
		req  AddRequest
		err  error
	}{
		{"outside roots", AddRequest{Torrent: f.raw, SaveDir: outside}, ErrDirNotAllowed},
		{"relative", AddRequest{Torrent: f.raw, SaveDir: "downloads"}, ErrDirNotAllowed},
		{"dot-dot", AddRequest{Torrent: f.raw, SaveDir: inside + "/../../.."}, ErrDirNotAllowed},
		{"symlink out", AddRequest{Torrent: f.raw, SaveDir: link + "/x"}, ErrDirNotAllowed},
		{"garbage", AddRequest{Torrent: []byte("d4:spam")}, ErrBadInput},
		{"nothing", AddRequest{}, ErrBadInput},
		{"bad magnet", AddRequest{Magnet: "magnet:?xt=urn:btih:zz"}, ErrBadInput},
		{"torrent and magnet", AddRequest{Torrent: f.raw, Magnet: f.mi.Magnet()}, ErrBadInput},
		{"negative limit", AddRequest{Torrent: f.raw, Limits: Limits{UpRate: -1}}, ErrBadInput},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.d.Add(tc.req)
			require.ErrorIs(t, err, tc.err)
		})
	}
	assert.Empty(t, r.d.List())
	st, err := r.d.Add(AddRequest{Torrent: f.raw, SaveDir: inside, Paused: true})
	require.NoError(t, err)
	assert.Equal(t, inside, st.SaveDir)
}

func rateOf(n int64) rate.Limit { return rate.Limit(n) }

// TestMagnet adds a magnet link whose x.pe is a seeder: the daemon fetches the metadata
// (BEP 9), caches it, downloads, and after a restart knows the torrent without fetching.
func TestMagnet(t *testing.T) {
	f := newFixture(t, "m.bin", 300<<10+7, 16<<10, 21)
	seeder := f.seed(t, 0)
	dir := t.TempDir()
	r := startDaemon(t, testConfig(t, dir, peertest.NewTracker())) // the tracker knows nobody
	mg, err := metainfo.ParseMagnet(f.mi.Magnet())
	require.NoError(t, err)
	mg.Peers = []string{seeder.Addr.String()}
	st, err := r.d.Add(AddRequest{Magnet: mg.String()})
	require.NoError(t, err)
	ih := f.mi.InfoHash.String()
	assert.Equal(t, ih, st.InfoHash)
	assert.Equal(t, StateMetadata, st.State)
	waitFor(t, "seeding", func() bool { return stateOf(r.d, ih) == StateSeeding })
	got, err := os.ReadFile(filepath.Join(dir, "downloads", "m.bin"))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(f.payload, got))
	peers, err := r.d.Peers(ih)
	require.NoError(t, err)
	require.NotEmpty(t, peers)
	assert.Equal(t, "magnet", peers[0].Source)
	r.stop(t)

	r2 := startDaemon(t, testConfig(t, dir, peertest.NewTracker()))
	waitFor(t, "seeding from the cached metadata", func() bool { return stateOf(r2.d, ih) == StateSeeding })
	st, err = r2.d.Get(ih)
	require.NoError(t, err)
	assert.Equal(t, "m.bin", st.Name)
}

// startDHTNode runs a DHT node on a loopback UDP socket, bootstrapped only from boot (all
// loopback: nothing leaves the machine), until the test ends.
func startDHTNode(t *testing.T, boot ...netip.AddrPort) (*dht.Node, netip.AddrPort) {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	n, err := dht.New(dht.Config{Conn: conn, Bootstrap: boot, AllowLocal: true, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = n.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; conn.Close() })
	return n, netip.MustParseAddrPort(conn.LocalAddr().String())
}

// TestMagnetOverDHT: a magnet link with neither trackers nor x.pe is found through the DHT
// (three loopback nodes: a router, the seeder's, the daemon's), fetched and downloaded.
func TestMagnetOverDHT(t *testing.T) {
	f := newFixture(t, "dht.bin", 200<<10+5, 16<<10, 31)
	seeder := f.seed(t, 0)
	_, routerAddr := startDHTNode(t)
	seedNode, _ := startDHTNode(t, routerAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	waitFor(t, "the seeder's node knows the router", func() bool { return seedNode.Stats().Nodes > 0 })
	_, err := seedNode.Announce(ctx, f.mi.InfoHash, seeder.Addr.Port())
	require.NoError(t, err)

	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer conn.Close()
	node, err := dht.New(dht.Config{Conn: conn, Bootstrap: []netip.AddrPort{routerAddr}, AllowLocal: true, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	dir := t.TempDir()
	cfg := testConfig(t, dir, peertest.NewTracker())
	cfg.NewAnnouncer, cfg.DHT = nil, node
	r := startDaemon(t, cfg)
	link := metainfo.Magnet{InfoHash: f.mi.InfoHash, Name: "dht.bin"}.String()
	_, err = r.d.Add(AddRequest{Magnet: link})
	require.NoError(t, err)
	ih := f.mi.InfoHash.String()
	waitFor(t, "seeding", func() bool { return stateOf(r.d, ih) == StateSeeding })
	got, err := os.ReadFile(filepath.Join(dir, "downloads", "dht.bin"))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(f.payload, got))
}
