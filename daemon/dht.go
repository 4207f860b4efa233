package daemon

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swarm-bt/swarm/dht"
	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer"
)

// dhtInterval is how often a torrent announces itself to the DHT (libtorrent: 15 min too).
const dhtInterval = 15 * time.Minute

// dhtSource is the DHT as a torrent's peer source (BEP 5): an announce is a get_peers
// lookup followed by announce_peer. Once the torrent's swarm exists the peers go to it
// directly, marked as coming from the DHT; before (a magnet's metadata fetch) they are
// returned like a tracker's.
type dhtSource struct {
	node *dht.Node
	sink atomic.Pointer[peer.Swarm]
}

// Announce implements peer.Announcer.
func (a *dhtSource) Announce(ctx context.Context, req peer.AnnounceRequest) (peer.AnnounceResponse, error) {
	if req.Event == peer.EventStopped {
		return peer.AnnounceResponse{}, nil // the DHT forgets us by itself
	}
	res, err := a.node.Announce(ctx, req.InfoHash, req.Port)
	if err != nil && len(res.Peers) == 0 {
		return peer.AnnounceResponse{}, err
	}
	resp := peer.AnnounceResponse{Interval: dhtInterval}
	if sw := a.sink.Load(); sw != nil {
		sw.AddPeersFrom(peer.SourceDHT, res.Peers...)
	} else {
		resp.Peers = res.Peers
	}
	return resp, nil
}

// multiSource announces to several peer sources at once (the trackers and the DHT) and
// merges what they return. It fails only when every source fails.
type multiSource []peer.Announcer

// Announce implements peer.Announcer.
func (m multiSource) Announce(ctx context.Context, req peer.AnnounceRequest) (peer.AnnounceResponse, error) {
	resps := make([]peer.AnnounceResponse, len(m))
	errs := make([]error, len(m))
	var wg sync.WaitGroup
	for i, a := range m {
		wg.Go(func() { resps[i], errs[i] = a.Announce(ctx, req) })
	}
	wg.Wait()
	var out peer.AnnounceResponse
	seen := map[netip.AddrPort]bool{}
	ok := false
	for i, r := range resps {
		if errs[i] != nil {
			continue
		}
		ok = true
		for _, p := range r.Peers {
			if !seen[p] {
				seen[p] = true
				out.Peers = append(out.Peers, p)
			}
		}
		if r.Interval > 0 && (out.Interval == 0 || r.Interval < out.Interval) {
			out.Interval = r.Interval
		}
		out.MinInterval = max(out.MinInterval, r.MinInterval)
		out.Seeders, out.Leechers = max(out.Seeders, r.Seeders), max(out.Leechers, r.Leechers)
	}
	if !ok {
		return out, errors.Join(errs...)
	}
	return out, nil
}

// peerSources builds a torrent's Announcer from its trackers and, unless it is private
// (BEP 27), the DHT; the dhtSource is returned so that its swarm can be set. Either may be
// nil.
func (d *Daemon) peerSources(trackers [][]string, private bool) (peer.Announcer, *dhtSource, error) {
	var srcs multiSource
	if len(trackers) > 0 && d.cfg.NewAnnouncer != nil {
		a, err := d.cfg.NewAnnouncer(trackers)
		if err != nil {
			return nil, nil, err
		}
		srcs = append(srcs, a)
	}
	var ds *dhtSource
	if d.cfg.DHT != nil && !private {
		ds = &dhtSource{node: d.cfg.DHT}
		srcs = append(srcs, ds)
	}
	switch len(srcs) {
	case 0:
		return nil, nil, nil
	case 1:
		return srcs[0], ds, nil
	}
	return srcs, ds, nil
}

// magnetTiers makes one tier per tracker of a magnet link.
func magnetTiers(mg metainfo.Magnet) [][]string {
	var tiers [][]string
	for _, tr := range mg.Trackers {
		tiers = append(tiers, []string{tr})
	}
	return tiers
}
