package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/time/rate"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/bitfield"
	"github.com/swarm-bt/swarm/peer/storage"
	"github.com/swarm-bt/swarm/tracker"
)

// demoFlags tune the demo; the defaults finish in seconds on a laptop.
type demoFlags struct {
	size     string
	leechers int
	pieceLen string
	upRate   string
	keep     bool
	timeout  time.Duration
	// trackerless: no tracker; peers find each other through a DHT on loopback.
	trackerless bool
}

func newDemoCmd(a *app) *cobra.Command {
	f := &demoFlags{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a whole swarm on loopback: a tracker, a seeder and four leechers",
		Long: `Make a sample payload, start a tracker, one seeder and several leechers on 127.0.0.1,
show their progress side by side, and check that every copy is byte-identical to the
source. Nothing leaves the machine; everything is removed afterwards unless --keep.`,
		Example: `  swarm demo
  swarm demo --size 1GiB --leechers 8
  swarm demo --up-rate 4MiB/s   # a slow seeder: leechers trade pieces among themselves
  swarm demo --trackerless      # no tracker: peers meet through a DHT on loopback`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), a, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.size, "size", "256MiB", "payload size")
	fl.IntVar(&f.leechers, "leechers", 4, "number of leechers")
	fl.StringVar(&f.pieceLen, "piece-length", "256KiB", "piece length")
	fl.StringVar(&f.upRate, "up-rate", "0", "the seeder's upload limit (0 = unlimited)")
	fl.BoolVar(&f.keep, "keep", false, "keep the demo folder and print its path")
	fl.BoolVar(&f.trackerless, "trackerless", false, "no tracker: a DHT bootstrap node on loopback; the leechers get only a magnet link and find the others through the DHT")
	fl.DurationVar(&f.timeout, "timeout", 5*time.Minute, "give up after this long")
	return cmd
}

// demoNode is one peer of the demo swarm: a session of its own (its port and peer ID) with
// the one torrent.
type demoNode struct {
	name string
	dir  string
	st   storage.Storage
	sess *peer.Session
	sw   *peer.Swarm
	// stop ends the session's Run when it was started before the others (the trackerless
	// seeder, which serves the leechers' metadata fetches); nil otherwise.
	stop func()
	// Totals at the previous draw: the table shows rates over the last draw interval, since
	// the engine's own rates (a window of whole seconds) lag a transfer that lasts a second.
	down, up int64
}

func runDemo(ctx context.Context, a *app, f *demoFlags) error {
	size, pieceLen, err := f.sizes()
	if err != nil {
		return err
	}
	up, err := parseRate(f.upRate)
	if err != nil {
		return fmt.Errorf("--up-rate: %w", err)
	}
	if f.leechers < 1 || f.leechers > 32 {
		return fmt.Errorf("--leechers %d: want 1 to 32", f.leechers)
	}
	root, err := os.MkdirTemp("", "swarm-demo-")
	if err != nil {
		return fmt.Errorf("make demo folder: %w", err)
	}
	if f.keep {
		fmt.Fprintf(a.stdout, "demo folder: %s\n", root)
	} else {
		defer os.RemoveAll(root)
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()

	fmt.Fprintf(a.stdout, "making a %s payload ...\n", humanBytes(size))
	mi, srcSum, err := demoPayload(ctx, root, size, pieceLen)
	if err != nil {
		return err
	}
	var dd *demoDHT
	if f.trackerless {
		if dd, err = startDemoDHT(ctx, a); err != nil {
			return err
		}
		defer dd.close()
		fmt.Fprintf(a.stdout, "no tracker: dht bootstrap node udp://%s, leechers get magnet:?xt=urn:btih:%s (%d pieces of %s)\n",
			dd.addr(), mi.InfoHash, mi.Info.NumPieces(), humanBytes(mi.Info.PieceLength))
	} else {
		announce, stopTracker, err := startDemoTracker(ctx, a)
		if err != nil {
			return err
		}
		defer stopTracker()
		mi.Announce = announce
		fmt.Fprintf(a.stdout, "tracker %s, torrent %s (%d pieces of %s)\n",
			announce, mi.InfoHash, mi.Info.NumPieces(), humanBytes(mi.Info.PieceLength))
	}

	nodes, err := demoNodes(ctx, a, root, mi, f.leechers, up, dd)
	defer func() {
		for _, n := range nodes {
			n.st.Close()
		}
	}()
	if err != nil {
		return err
	}
	start := time.Now()
	var completions []<-chan struct{}
	for _, n := range nodes[1:] {
		completions = append(completions, n.sw.Completed())
	}
	finished := lastCompletion(ctx, completions)
	if err := runDemoSwarm(ctx, a, mi, nodes); err != nil {
		return err
	}
	// The table notices completion at its next redraw; the time is the real one.
	return demoReport(a, mi, nodes, srcSum, (<-finished).Sub(start))
}

// demoPayload writes deterministic random bytes and makes a torrent of them.
func demoPayload(ctx context.Context, root string, size, pieceLen int64) (*metainfo.MetaInfo, [32]byte, error) {
	var sum [32]byte
	seedDir := filepath.Join(root, "seeder")
	if err := os.MkdirAll(seedDir, 0o755); err != nil {
		return nil, sum, fmt.Errorf("make seeder folder: %w", err)
	}
	path := filepath.Join(seedDir, "demo.bin")
	file, err := os.Create(path)
	if err != nil {
		return nil, sum, fmt.Errorf("create payload: %w", err)
	}
	h := sha256.New()
	rng := rand.NewChaCha8([32]byte{'s', 'w', 'a', 'r', 'm'})
	_, err = io.CopyN(io.MultiWriter(file, h), rng, size)
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, sum, fmt.Errorf("write payload: %w", err)
	}
	copy(sum[:], h.Sum(nil))
	mi, err := metainfo.Create(ctx, metainfo.CreateConfig{Path: path, PieceLength: pieceLen, CreatedBy: "swarm demo"})
	if err != nil {
		return nil, sum, fmt.Errorf("create torrent: %w", err)
	}
	return mi, sum, nil
}

// demoNodes checks storage and builds the seeder and leechers; it starts nothing yet, except,
// with no tracker, the seeder: the leechers get only a magnet link and the DHT bootstrap
// node, and fetch the metadata from it.
func demoNodes(ctx context.Context, a *app, root string, mi *metainfo.MetaInfo, leechers int, up int64, dd *demoDHT) ([]*demoNode, error) {
	var nodes []*demoNode
	for i := range leechers + 1 {
		n := &demoNode{name: "seeder", dir: filepath.Join(root, "seeder")}
		if i > 0 {
			n.name = fmt.Sprintf("leecher %d", i)
			n.dir = filepath.Join(root, fmt.Sprintf("leecher%d", i))
		}
		nmi := mi
		if i > 0 && dd != nil {
			var err error
			if nmi, err = dd.fetchMagnet(ctx, n.name, mi.InfoHash); err != nil {
				return nodes, err
			}
		}
		st, err := storage.OpenFiles(&nmi.Info, n.dir)
		if err != nil {
			return nodes, fmt.Errorf("%s: open storage: %w", n.name, err)
		}
		n.st = st
		nodes = append(nodes, n)
		have, err := storage.Check(ctx, &nmi.Info, st, 0, nil)
		if err != nil {
			return nodes, fmt.Errorf("%s: check: %w", n.name, err)
		}
		if err := n.join(ctx, a, nmi, have, up, i == 0, dd); err != nil {
			return nodes, err
		}
		if i == 0 && dd != nil {
			n.runEarly(ctx)
		}
	}
	return nodes, nil
}

// demoConnsPerIP is the demo's per-address connection cap: all its peers share 127.0.0.1.
const demoConnsPerIP = 1000

// join makes the node's session, listening on loopback, and adds the torrent to it; only the
// seeder has an upload limit.
func (n *demoNode) join(ctx context.Context, a *app, mi *metainfo.MetaInfo, have bitfield.Bitfield, up int64, seeder bool, dd *demoDHT) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("%s: listen: %w", n.name, err)
	}
	logger := a.logger.With("node", n.name)
	// Every node of the demo is on 127.0.0.1: one address for all peers, on purpose.
	sc := peer.SessionConfig{Listener: ln, Logger: logger, MaxConnsPerIP: demoConnsPerIP}
	if seeder {
		sc.UploadLimit = rate.Limit(up)
	}
	var svc *dhtService
	if dd != nil {
		if svc, err = dd.join(ctx, n.name, ln.Addr().(*net.TCPAddr).Port, &sc); err != nil {
			ln.Close()
			return err
		}
	}
	if n.sess, err = peer.NewSession(sc); err != nil {
		ln.Close()
		return fmt.Errorf("%s: %w", n.name, err)
	}
	cfg := peer.Config{Info: &mi.Info, InfoHash: mi.InfoHash, InfoBytes: mi.InfoBytes, Storage: n.st, Have: have, Logger: logger}
	if len(mi.Trackers()) > 0 {
		if cfg.Announcer, err = newTrackerAnnouncer(mi.Trackers(), "127.0.0.1", a.logger); err != nil {
			ln.Close()
			return err
		}
	}
	if n.sw, err = n.sess.Add(cfg); err != nil {
		ln.Close()
		return fmt.Errorf("%s: %w", n.name, err)
	}
	if svc != nil {
		trackDemo(ctx, svc, n.sw, mi, n.sess.Port())
	}
	return nil
}

// sizes reads --size and --piece-length, refusing up front what create would refuse only
// after the payload is written.
func (f *demoFlags) sizes() (size, pieceLen int64, err error) {
	if size, err = parseSize(f.size); err != nil {
		return 0, 0, fmt.Errorf("--size: %w", err)
	}
	if size < 1 {
		return 0, 0, fmt.Errorf("--size %s: want at least 1 byte: a torrent of nothing has no pieces", f.size)
	}
	pieceLen, err = parsePieceLength("--piece-length", f.pieceLen)
	return size, pieceLen, err
}

// lastCompletion sends the time the last of the completed channels closed (or ctx ended),
// once; its channel is buffered, so nobody needs to receive, and the goroutine ends with ctx
// at the latest.
func lastCompletion(ctx context.Context, completed []<-chan struct{}) <-chan time.Time {
	out := make(chan time.Time, 1)
	go func() {
		for _, c := range completed {
			select {
			case <-c:
			case <-ctx.Done():
			}
		}
		out <- time.Now()
	}()
	return out
}

// runDemoSwarm runs every node until all leechers complete, redrawing the progress table.
func runDemoSwarm(ctx context.Context, a *app, mi *metainfo.MetaInfo, nodes []*demoNode) error {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, n := range nodes {
		if n.stop == nil {
			wg.Go(func() { _ = n.sess.Run(runCtx) })
		}
	}
	table := &demoTable{a: a, live: isTerminal(a.stdout)}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var err error
	for done := false; !done; {
		select {
		case <-ctx.Done():
			err = fmt.Errorf("demo did not finish: %w", context.Cause(ctx))
			done = true
		case <-tick.C:
			done = table.draw(mi, nodes)
		}
	}
	cancel()
	wg.Wait()
	for _, n := range nodes {
		if n.stop != nil {
			n.stop()
		}
		if e := n.sw.Err(); e != nil {
			err = errors.Join(err, fmt.Errorf("%s: %w", n.name, e))
		}
	}
	return err
}

// demoTable draws one row per node; on a terminal it redraws in place.
type demoTable struct {
	a     *app
	live  bool
	drawn int
	last  time.Time // last printed, when not live
	at    time.Time // last drawn
}

// draw prints the table and reports whether every node has every piece.
func (t *demoTable) draw(mi *metainfo.MetaInfo, nodes []*demoNode) bool {
	var b strings.Builder
	all := true
	now := time.Now()
	secs := now.Sub(t.at).Seconds()
	for _, n := range nodes {
		st := n.sw.Stats()
		frac := float64(st.Have) / float64(max(st.NumPieces, 1))
		all = all && st.Left == 0
		bar := strings.Repeat("#", int(frac*30)) + strings.Repeat(".", 30-int(frac*30))
		var down, up int64
		if !t.at.IsZero() && secs > 0 {
			down, up = int64(float64(st.Downloaded-n.down)/secs), int64(float64(st.Uploaded-n.up)/secs)
		}
		n.down, n.up = st.Downloaded, st.Uploaded
		fmt.Fprintf(&b, "%-10s [%s] %5.1f%%  down %10s/s  up %10s/s  peers %d\n",
			n.name, bar, 100*frac, humanBytes(down), humanBytes(up), len(st.Peers))
	}
	t.at = now
	if t.live {
		if t.drawn > 0 {
			fmt.Fprintf(t.a.stdout, "\x1b[%dA", t.drawn)
		}
		fmt.Fprint(t.a.stdout, b.String())
		t.drawn = len(nodes)
	} else if all || time.Since(t.last) >= 2*time.Second {
		t.last = time.Now()
		fmt.Fprintln(t.a.stdout, b.String())
	}
	return all
}

// demoReport checks every leecher's copy against the source and prints the summary.
func demoReport(a *app, mi *metainfo.MetaInfo, nodes []*demoNode, src [32]byte, took time.Duration) error {
	var failed []string
	for _, n := range nodes[1:] {
		got, err := fileSHA256(filepath.Join(n.dir, mi.Info.Name))
		if err != nil || !bytes.Equal(got[:], src[:]) {
			failed = append(failed, n.name)
		}
	}
	seed := nodes[0].sw.Stats()
	size := mi.Info.TotalLength()
	fmt.Fprintf(a.stdout, "\n%d leechers downloaded %s in %s; the seeder uploaded %.2fx the payload\n",
		len(nodes)-1, humanBytes(size), took.Round(time.Millisecond), float64(seed.Uploaded)/float64(size))
	if len(failed) > 0 {
		return fmt.Errorf("copies differ from the source: %s", strings.Join(failed, ", "))
	}
	fmt.Fprintf(a.stdout, "every copy verified: sha256 %x\n", src)
	return nil
}

func fileSHA256(path string) ([32]byte, error) {
	var sum [32]byte
	f, err := os.Open(path)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sum, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

// startDemoTracker runs an open tracker on an ephemeral loopback port with a short interval,
// so leechers that finish early re-announce soon enough to be found.
func startDemoTracker(ctx context.Context, a *app) (string, func(), error) {
	srv, err := tracker.New(tracker.Config{Logger: a.logger.With("node", "tracker"), Interval: 10 * time.Second})
	if err != nil {
		return "", nil, fmt.Errorf("start tracker: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("start tracker: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := srv.Serve(ctx, ln); err != nil && !errors.Is(err, context.Canceled) {
			a.logger.Warn("demo tracker stopped", "err", err)
		}
	})
	stop := func() {
		cancel()
		wg.Wait()
	}
	return "http://" + ln.Addr().String() + "/announce", stop, nil
}
