// Package peertest runs whole swarms in one process for tests, demos and benchmarks: an
// in-memory peer source (Tracker), torrents made from generated payloads (Torrent), running
// engines on loopback or on an in-memory network (Node, Network).
package peertest

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer"
)

// ErrTrackerDown is returned by a Tracker while it is set down.
var ErrTrackerDown = errors.New("peertest: tracker down")

// Tracker is an in-memory peer source implementing peer.Announcer: every swarm announcing an
// info-hash gets the addresses of the others (never its own). It is safe for concurrent use.
type Tracker struct {
	// Interval is returned to announcers; set it before the first announce. Default 30 s.
	Interval time.Duration

	mu        sync.Mutex
	swarms    map[metainfo.Hash]map[[20]byte]netip.AddrPort
	announces []peer.AnnounceRequest
	addrs     map[[20]byte]netip.Addr
	down      bool
}

// NewTracker returns an empty tracker.
func NewTracker() *Tracker {
	return &Tracker{
		Interval: 30 * time.Second,
		swarms:   map[metainfo.Hash]map[[20]byte]netip.AddrPort{},
		addrs:    map[[20]byte]netip.Addr{},
	}
}

// SetAddr tells the tracker the IP of the swarm with this peer ID (default 127.0.0.1), as a
// real tracker would see it from the connection.
func (t *Tracker) SetAddr(id [20]byte, ip netip.Addr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.addrs[id] = ip
}

// SetDown makes announces fail (true) or succeed again (false).
func (t *Tracker) SetDown(down bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.down = down
}

// Announce implements peer.Announcer.
func (t *Tracker) Announce(ctx context.Context, req peer.AnnounceRequest) (peer.AnnounceResponse, error) {
	if err := ctx.Err(); err != nil {
		return peer.AnnounceResponse{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.announces = append(t.announces, req)
	if t.down {
		return peer.AnnounceResponse{}, ErrTrackerDown
	}
	sw := t.swarms[req.InfoHash]
	if sw == nil {
		sw = map[[20]byte]netip.AddrPort{}
		t.swarms[req.InfoHash] = sw
	}
	if req.Event == peer.EventStopped {
		delete(sw, req.PeerID)
		return peer.AnnounceResponse{Interval: t.Interval}, nil
	}
	ip, ok := t.addrs[req.PeerID]
	if !ok {
		ip = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	if req.Port != 0 {
		sw[req.PeerID] = netip.AddrPortFrom(ip, req.Port)
	}
	resp := peer.AnnounceResponse{Interval: t.Interval}
	for id, a := range sw {
		if id != req.PeerID {
			resp.Peers = append(resp.Peers, a)
		}
	}
	slices.SortFunc(resp.Peers, func(a, b netip.AddrPort) int { return a.Compare(b) })
	return resp, nil
}

// Announces returns a copy of every announce received so far, in order.
func (t *Tracker) Announces() []peer.AnnounceRequest {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.announces)
}
