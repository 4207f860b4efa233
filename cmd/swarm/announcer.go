package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/netip"

	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/tracker"
)

// trackerAnnouncer adapts tracker.Client to peer.Announcer: peer must not import tracker
// (DESIGN A), so cmd wires the two. It makes one attempt per tracker, tier by tier; the swarm
// retries with backoff and honours Interval and MinInterval.
type trackerAnnouncer struct {
	client *tracker.Client
}

var _ peer.Announcer = (*trackerAnnouncer)(nil)

// newAnnouncer returns an announcer for the BEP 12 tiers of a torrent (metainfo's Trackers()).
// rng shuffles the tiers; nil means a random seed.
// hc sends the HTTP requests; nil means the client's default. UDP requests are sent from
// udpBind when it is valid.
func newAnnouncer(tiers [][]string, logger *slog.Logger, rng *rand.Rand, hc *http.Client, udpBind netip.Addr) (*trackerAnnouncer, error) {
	c, err := tracker.NewClient(tracker.ClientConfig{
		Tiers: tiers, Logger: logger, Rand: rng, UserAgent: "swarm/0.1", HTTPClient: hc, UDPLocalAddr: udpBind,
	})
	if err != nil {
		return nil, fmt.Errorf("new announcer: %w", err)
	}
	return &trackerAnnouncer{client: c}, nil
}

// Announce implements peer.Announcer.
func (t *trackerAnnouncer) Announce(ctx context.Context, req peer.AnnounceRequest) (peer.AnnounceResponse, error) {
	resp, err := t.client.Announce(ctx, tracker.AnnounceRequest{
		InfoHash: req.InfoHash, PeerID: tracker.PeerID(req.PeerID), Port: req.Port,
		Uploaded: req.Uploaded, Downloaded: req.Downloaded, Left: req.Left,
		Event: trackerEvent(req.Event), NumWant: req.NumWant,
	})
	if err != nil {
		return peer.AnnounceResponse{}, fmt.Errorf("announce: %w", err)
	}
	peers := make([]netip.AddrPort, 0, len(resp.Peers))
	for _, p := range resp.Peers {
		peers = append(peers, p.Addr)
	}
	return peer.AnnounceResponse{
		Peers: peers, Interval: resp.Interval, MinInterval: resp.MinInterval,
		Seeders: resp.Complete, Leechers: resp.Incomplete,
	}, nil
}

func trackerEvent(e peer.Event) tracker.Event {
	switch e {
	case peer.EventStarted:
		return tracker.EventStarted
	case peer.EventCompleted:
		return tracker.EventCompleted
	case peer.EventStopped:
		return tracker.EventStopped
	}
	return tracker.EventNone
}
