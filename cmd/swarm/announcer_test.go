package main

import (
	"math/rand/v2"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/tracker"
)

func TestTrackerAnnouncer(t *testing.T) {
	srv, err := tracker.New(tracker.Config{Interval: 2 * time.Minute, Rand: rand.New(rand.NewPCG(1, 1))})
	require.NoError(t, err)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	an, err := newAnnouncer([][]string{{hs.URL + "/announce"}}, nil, rand.New(rand.NewPCG(2, 2)), nil, netip.Addr{})
	require.NoError(t, err)

	h := metainfo.Hash{1, 2, 3}
	req := func(id byte, port uint16, left int64, ev peer.Event) peer.AnnounceRequest {
		return peer.AnnounceRequest{InfoHash: h, PeerID: [20]byte{id}, Port: port, Left: left, Event: ev, NumWant: 10}
	}
	resp, err := an.Announce(t.Context(), req(1, 7001, 0, peer.EventStarted))
	require.NoError(t, err)
	assert.Equal(t, peer.AnnounceResponse{Peers: []netip.AddrPort{}, Interval: 2 * time.Minute, MinInterval: time.Minute, Seeders: 1}, resp)

	resp, err = an.Announce(t.Context(), req(2, 7002, 100, peer.EventStarted))
	require.NoError(t, err)
	assert.Equal(t, []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:7001")}, resp.Peers)
	assert.Equal(t, 1, resp.Leechers)

	_, err = an.Announce(t.Context(), req(2, 7002, 0, peer.EventCompleted))
	require.NoError(t, err)
	resp, err = an.Announce(t.Context(), req(1, 7001, 0, peer.EventStopped))
	require.NoError(t, err)
	assert.Equal(t, 1, resp.Seeders, "stopped removed peer 1; peer 2 completed and seeds")
	c, err := srv.Store().Scrape(t.Context(), []metainfo.Hash{h}, nil)
	require.NoError(t, err)
	assert.Equal(t, []tracker.Counts{{Complete: 1, Downloaded: 1}}, c)
}

func TestTrackerAnnouncerErrors(t *testing.T) {
	_, err := newAnnouncer([][]string{{"wss://tracker:1/announce"}}, nil, nil, nil, netip.Addr{})
	require.ErrorIs(t, err, tracker.ErrNoTrackers)
	an, err := newAnnouncer([][]string{{"http://127.0.0.1:1/announce"}}, nil, nil, nil, netip.Addr{})
	require.NoError(t, err)
	_, err = an.Announce(t.Context(), peer.AnnounceRequest{Port: 1})
	assert.ErrorContains(t, err, "announce")
}

func TestTrackerEventMapping(t *testing.T) {
	for in, want := range map[peer.Event]tracker.Event{
		peer.EventNone: tracker.EventNone, peer.EventStarted: tracker.EventStarted,
		peer.EventCompleted: tracker.EventCompleted, peer.EventStopped: tracker.EventStopped,
	} {
		assert.Equal(t, want, trackerEvent(in))
	}
}
