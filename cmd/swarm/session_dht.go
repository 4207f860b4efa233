package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/swarm-bt/swarm/dht"
	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer"
)

// dhtInterval is how often a torrent asks the DHT for peers and announces itself (BEP 5
// clients re-announce every 15 to 30 minutes; stored peers expire after 30).
const dhtInterval = 15 * time.Minute

// dhtRetryMin is the first wait after a lookup that found no peers; it doubles up to
// dhtInterval, so a leecher that started before its seeder announced finds it soon.
const dhtRetryMin = 5 * time.Second

// sessionDHTFlags are get's and seed's DHT options.
type sessionDHTFlags struct {
	off       bool
	bootstrap []string
	state     string
	svc       *dhtService // the running node, once started (not a flag)
}

func (f *sessionFlags) registerDHT(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&f.dht.off, "no-dht", false, "do not use the DHT (it is never used for private torrents)")
	fl.StringSliceVar(&f.dht.bootstrap, "dht-bootstrap", nil,
		"DHT nodes to join through, HOST:PORT[,...] (default: "+strings.Join(defaultDHTRouters, ",")+")")
	fl.StringVar(&f.dht.state, "dht-state", "", "file that keeps the DHT routing table between runs (default: the user cache folder's swarm/dht.dat)")
}

// dhtService is the process's DHT node for get and seed: one UDP socket, on the peer port's
// number when it is free, shared by every public torrent of the session.
type dhtService struct {
	a      *app
	node   *dht.Node
	conn   net.PacketConn
	state  string
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startDHT starts the node unless --no-dht, every torrent is private (the DHT is never used
// for private torrents, BEP 27), or there is no node to join through; nil means no DHT. Bootstrap nodes are --dht-bootstrap,
// or the public routers (only main sets those: the tests' entry point has none, so no test
// can reach the public DHT by forgetting --no-dht).
func startDHT(ctx context.Context, a *app, f *sessionFlags, public bool) (*dhtService, error) {
	if f.dht.off || !public {
		return nil, nil
	}
	list := f.dht.bootstrap
	if len(list) == 0 {
		list = a.dhtRouters
	}
	boot, err := resolveNodes(ctx, list, a.logger)
	if err != nil {
		return nil, fmt.Errorf("--dht-bootstrap: %w", err)
	}
	state := f.dht.state
	if state == "" {
		state = a.dhtState
	}
	cfg := dht.Config{Bootstrap: boot, Logger: a.logger}
	loadDHTState(state, &cfg, a.logger)
	if len(boot) == 0 && len(cfg.Nodes) == 0 {
		a.logger.Info("dht off: no bootstrap node and no saved routing table")
		return nil, nil
	}
	conn, err := listenDHT(f)
	if err != nil { // the DHT is optional: a UDP problem does not stop the download
		a.logger.Warn("dht off", "err", err)
		return nil, nil
	}
	cfg.Conn, cfg.Logger = conn, a.logger.With("dht", conn.LocalAddr().String())
	d, err := runDHTNode(ctx, a, cfg, state)
	if err != nil {
		return nil, err
	}
	a.logger.Info("dht started", "addr", conn.LocalAddr(), "bootstrap", len(boot), "saved nodes", len(cfg.Nodes))
	return d, nil
}

// runDHTNode starts a node on cfg.Conn (closed by close, or here on error), saving its table
// to state at close ("" = not saved).
func runDHTNode(ctx context.Context, a *app, cfg dht.Config, state string) (*dhtService, error) {
	node, err := dht.New(cfg)
	if err != nil {
		cfg.Conn.Close()
		return nil, fmt.Errorf("dht: %w", err)
	}
	d := &dhtService{a: a, node: node, conn: cfg.Conn, state: state}
	ctx, d.cancel = context.WithCancel(ctx)
	d.wg.Go(func() {
		if err := node.Run(ctx); err != nil {
			a.logger.Warn("dht stopped", "err", err)
		}
	})
	return d, nil
}

// listenDHT opens the UDP socket on the peer port's number (as libtorrent does), or any free
// port when that one is taken or the peer port is chosen later (--port 0).
func listenDHT(f *sessionFlags) (net.PacketConn, error) {
	if f.port != 0 {
		if c, err := net.ListenPacket("udp", net.JoinHostPort(f.bind, strconv.Itoa(f.port))); err == nil {
			return c, nil
		}
	}
	c, err := net.ListenPacket("udp", net.JoinHostPort(f.bind, "0"))
	if err != nil {
		return nil, fmt.Errorf("dht: %w", err)
	}
	return c, nil
}

// port is the node's UDP port, for BEP 5 port messages; 0 without a DHT.
func (d *dhtService) port() uint16 {
	if d == nil {
		return 0
	}
	return uint16(d.conn.LocalAddr().(*net.UDPAddr).Port)
}

// addNode is the session's OnDHTPort; nil without a DHT.
func (d *dhtService) addNode() func(netip.AddrPort) {
	if d == nil {
		return nil
	}
	return d.node.AddNode
}

// track looks up a public torrent's peers at once and every dhtInterval, announcing our
// peer port, and gives the swarm what it finds, until the swarm or the service stops.
func (d *dhtService) track(ctx context.Context, sw *peer.Swarm, ih metainfo.Hash, port uint16) {
	if d == nil {
		return
	}
	d.wg.Go(func() {
		wait := dhtRetryMin
		for {
			res, err := d.node.Announce(ctx, ih, port)
			if err == nil && len(res.Peers) > 0 {
				sw.AddPeersFrom(peer.SourceDHT, res.Peers...)
				wait = dhtInterval
			} else {
				wait = min(2*wait, dhtInterval)
			}
			d.a.logger.Debug("dht lookup", "infohash", ih, "peers", len(res.Peers), "stored", res.Stored,
				"queries", res.Queries, "err", err, "next", wait)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-sw.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	})
}

// announcer returns a peer.Announcer over the DHT, for a magnet's metadata fetch: get_peers
// only (we have nothing to serve yet).
func (d *dhtService) announcer() peer.Announcer {
	if d == nil {
		return nil
	}
	return dhtAnnouncer{d.node}
}

type dhtAnnouncer struct{ node *dht.Node }

// Announce implements peer.Announcer.
func (a dhtAnnouncer) Announce(ctx context.Context, req peer.AnnounceRequest) (peer.AnnounceResponse, error) {
	if req.Event == peer.EventStopped {
		return peer.AnnounceResponse{}, nil
	}
	res, err := a.node.GetPeers(ctx, req.InfoHash)
	if err != nil {
		return peer.AnnounceResponse{}, fmt.Errorf("dht: %w", err)
	}
	return peer.AnnounceResponse{Peers: res.Peers, Interval: dhtInterval}, nil
}

// joinAnnouncers asks both (either may be nil) at once and merges their peers; it fails
// only when both fail.
func joinAnnouncers(x, y peer.Announcer) peer.Announcer {
	switch {
	case x == nil:
		return y
	case y == nil:
		return x
	}
	return bothAnnouncers{x, y}
}

type bothAnnouncers [2]peer.Announcer

// Announce implements peer.Announcer.
func (b bothAnnouncers) Announce(ctx context.Context, req peer.AnnounceRequest) (peer.AnnounceResponse, error) {
	var res [2]peer.AnnounceResponse
	var errs [2]error
	var wg sync.WaitGroup
	for i := range b {
		wg.Go(func() { res[i], errs[i] = b[i].Announce(ctx, req) })
	}
	wg.Wait()
	if errs[0] != nil && errs[1] != nil {
		return peer.AnnounceResponse{}, errors.Join(errs[0], errs[1])
	}
	out := res[0]
	if errs[0] != nil {
		out = res[1]
	} else if errs[1] == nil {
		out.Peers = append(out.Peers, res[1].Peers...)
	}
	return out, nil
}

// close stops the node and its lookups, saves the routing table and closes the socket.
func (d *dhtService) close() {
	if d == nil {
		return
	}
	d.cancel()
	d.wg.Wait()
	if d.state != "" {
		if err := os.MkdirAll(filepath.Dir(d.state), 0o755); err != nil {
			d.a.logger.Warn("dht state not saved", "err", err)
		}
	}
	saveDHTState(d.state, d.node, d.a.logger)
	_ = d.conn.Close()
}

// anyPublic reports whether one of the arguments is a magnet link or a torrent that is not
// private; a torrent that does not load counts as private (its error comes later).
func anyPublic(args []string) bool {
	for _, arg := range args {
		if isMagnet(arg) {
			return true
		}
		if mi, err := metainfo.Load(arg); err == nil && !mi.Info.Private {
			return true
		}
	}
	return false
}
