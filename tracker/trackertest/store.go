// Package trackertest holds test helpers for the tracker package: the Store conformance suite
// that every Store implementation runs, and a tracker on a loopback port.
package trackertest

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/tracker"
)

// TestStore runs the Store contract against stores made by newStore. Each subtest gets a fresh
// store with no caps.
func TestStore(t *testing.T, newStore func(t *testing.T) tracker.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, tracker.Store)
	}{
		{"put and scrape", testPutScrape},
		{"reannounce updates", testReannounce},
		{"keyed by address", testKeyedByAddress},
		{"completed counted once", testCompletedOnce},
		{"stop", testStop},
		{"sample excludes self", testSampleSelf},
		{"seeders get no seeders", testSeederSample},
		{"sample bounded and distinct", testSampleDistinct},
		{"no create", testNoCreate},
		{"expire", testExpire},
		{"swarms", testSwarms},
		{"ipv6", testIPv6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// Hash returns a distinct info-hash for n.
func Hash(n int) metainfo.Hash {
	var h metainfo.Hash
	h[0], h[1], h[2], h[19] = byte(n), byte(n>>8), byte(n>>16), 0xAA
	return h
}

// ID returns a distinct peer id for n.
func ID(n int) tracker.PeerID {
	var id tracker.PeerID
	copy(id[:], "-SW0001-")
	id[16], id[17], id[18], id[19] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	return id
}

// Addr returns a distinct IPv4 address for n.
func Addr(n int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(n >> 16), byte(n >> 8), byte(n)}), 6881)
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Put announces peer n (at Addr(n)) to swarm h and fails the test on an error.
func put(t *testing.T, s tracker.Store, h, n int, seeder bool, at time.Time, want int) ([]tracker.Peer, tracker.Counts) {
	t.Helper()
	return do(t, s, tracker.PutRequest{InfoHash: Hash(h), Addr: Addr(n), Seeder: seeder, Now: at, NumWant: want})
}

func do(t *testing.T, s tracker.Store, req tracker.PutRequest) ([]tracker.Peer, tracker.Counts) {
	t.Helper()
	res, err := s.Put(t.Context(), req, nil)
	require.NoError(t, err)
	return res.Peers, res.Counts
}

func scrape(t *testing.T, s tracker.Store, hs ...int) []tracker.Counts {
	t.Helper()
	var in []metainfo.Hash
	for _, h := range hs {
		in = append(in, Hash(h))
	}
	out, err := s.Scrape(t.Context(), in, nil)
	require.NoError(t, err)
	return out
}

func totals(t *testing.T, s tracker.Store) tracker.Totals {
	t.Helper()
	tot, err := s.Totals(t.Context())
	require.NoError(t, err)
	return tot
}

func addrs(peers []tracker.Peer) []netip.AddrPort {
	var out []netip.AddrPort
	for _, p := range peers {
		out = append(out, p.Addr)
	}
	return out
}

func testPutScrape(t *testing.T, s tracker.Store) {
	res, err := s.Put(t.Context(), tracker.PutRequest{InfoHash: Hash(1), Addr: Addr(1), Seeder: true, Now: t0}, nil)
	require.NoError(t, err)
	assert.True(t, res.Created, "the first announce starts the swarm")
	res, err = s.Put(t.Context(), tracker.PutRequest{InfoHash: Hash(1), Addr: Addr(2), Now: t0}, nil)
	require.NoError(t, err)
	assert.False(t, res.Created)
	_, c := put(t, s, 1, 3, false, t0, 0)
	assert.Equal(t, tracker.Counts{Complete: 1, Incomplete: 2}, c)
	assert.Equal(t, []tracker.Counts{c, {}, c}, scrape(t, s, 1, 2, 1), "unknown swarms are zero")
	// Totals may lag behind until an Expire pass; after one they are exact.
	_, err = s.Expire(t.Context(), t0)
	require.NoError(t, err)
	assert.Equal(t, tracker.Totals{Swarms: 1, Peers: 3}, totals(t, s))
}

func testReannounce(t *testing.T, s tracker.Store) {
	put(t, s, 1, 1, false, t0, 0)
	put(t, s, 1, 1, false, t0, 0)
	_, c := put(t, s, 1, 1, true, t0, 0)
	assert.Equal(t, tracker.Counts{Complete: 1, Downloaded: 1}, c, "moved to seeders")
	peers, _ := put(t, s, 1, 2, false, t0, 5)
	assert.Equal(t, []netip.AddrPort{Addr(1)}, addrs(peers))
	_, c = put(t, s, 1, 1, false, t0, 0)
	assert.Equal(t, tracker.Counts{Incomplete: 2, Downloaded: 1}, c, "and back to leechers")
}

// A peer is its address: the same address on another port is another peer, and a stop from
// another address leaves the peer alone.
func testKeyedByAddress(t *testing.T, s tracker.Store) {
	a := Addr(1)
	other := netip.AddrPortFrom(a.Addr(), a.Port()+1)
	do(t, s, tracker.PutRequest{InfoHash: Hash(1), Addr: a, Seeder: true, Now: t0})
	_, c := do(t, s, tracker.PutRequest{InfoHash: Hash(1), Addr: other, Seeder: true, Now: t0})
	assert.Equal(t, 2, c.Complete)
	_, c = do(t, s, tracker.PutRequest{InfoHash: Hash(1), Addr: Addr(9), Seeder: true, Stopped: true, Now: t0})
	assert.Equal(t, tracker.Counts{Complete: 2}, c, "a stop of an unknown address removes nothing")
	peers, _ := put(t, s, 1, 5, false, t0, 10)
	assert.ElementsMatch(t, []netip.AddrPort{a, other}, addrs(peers))
	for _, p := range peers {
		assert.Zero(t, p.ID, "stores hand out no peer ids")
	}
}

func testCompletedOnce(t *testing.T, s tracker.Store) {
	for range 3 {
		do(t, s, tracker.PutRequest{InfoHash: Hash(1), Addr: Addr(1), Seeder: true, Completed: true, Now: t0})
	}
	assert.Equal(t, []tracker.Counts{{Complete: 1, Downloaded: 1}}, scrape(t, s, 1))

	put(t, s, 2, 1, false, t0, 0)
	put(t, s, 2, 1, true, t0, 0)
	_, c := put(t, s, 2, 1, true, t0, 0)
	assert.Equal(t, tracker.Counts{Complete: 1, Downloaded: 1}, c, "a leecher turning seeder is a download")
	_, c = put(t, s, 2, 2, true, t0, 0)
	assert.Equal(t, 1, c.Downloaded, "a peer that arrives as a seeder is not")
}

func testStop(t *testing.T, s tracker.Store) {
	stop := func(h, n int, seeder bool) tracker.Counts {
		_, c := do(t, s, tracker.PutRequest{InfoHash: Hash(h), Addr: Addr(n), Seeder: seeder, Stopped: true, Now: t0, NumWant: 50})
		return c
	}
	put(t, s, 1, 1, false, t0, 0)
	put(t, s, 1, 2, true, t0, 0)
	assert.Equal(t, tracker.Counts{Incomplete: 1}, stop(1, 2, true))
	assert.Equal(t, tracker.Counts{Downloaded: 1}, stop(1, 1, true), "a leecher stopping with nothing left finished")
	assert.Equal(t, tracker.Counts{Downloaded: 1}, stop(1, 1, true), "stopping twice is harmless")
	assert.Equal(t, tracker.Counts{}, stop(9, 1, false), "unknown swarm")
	assert.Equal(t, []tracker.Counts{{}}, scrape(t, s, 9), "a stop starts no swarm")
	_, err := s.Expire(t.Context(), t0)
	require.NoError(t, err)
	assert.Equal(t, 0, totals(t, s).Peers)
}

func testSampleSelf(t *testing.T, s tracker.Store) {
	for n := range 10 {
		peers, _ := put(t, s, 1, n, false, t0, 50)
		assert.Len(t, peers, n)
		assert.NotContains(t, addrs(peers), Addr(n))
	}
}

func testSeederSample(t *testing.T, s tracker.Store) {
	for n := range 5 {
		put(t, s, 1, n, true, t0, 0)
	}
	put(t, s, 1, 100, false, t0, 0)
	peers, _ := put(t, s, 1, 101, true, t0, 50)
	assert.Equal(t, []netip.AddrPort{Addr(100)}, addrs(peers))
	peers, _ = put(t, s, 1, 102, false, t0, 50)
	assert.Len(t, peers, 7, "a leecher gets seeders and leechers")
}

func testSampleDistinct(t *testing.T, s tracker.Store) {
	for n := range 300 {
		put(t, s, 1, n, n%3 == 0, t0, 0)
	}
	for _, want := range []int{0, 1, 50, 200, 299, 400} {
		peers, _ := put(t, s, 1, 1000, false, t0, want)
		assert.Len(t, peers, min(want, 300))
		seen := map[netip.AddrPort]bool{}
		for _, p := range peers {
			assert.False(t, seen[p.Addr], "duplicate peer in sample")
			seen[p.Addr] = true
			assert.NotEqual(t, Addr(1000), p.Addr)
		}
	}
}

func testNoCreate(t *testing.T, s tracker.Store) {
	put(t, s, 1, 1, false, t0, 0)
	_, err := s.Put(t.Context(), tracker.PutRequest{InfoHash: Hash(2), Addr: Addr(2), Now: t0, NoCreate: true}, nil)
	require.ErrorIs(t, err, tracker.ErrTooManySwarms)
	assert.Equal(t, []tracker.Counts{{}}, scrape(t, s, 2))
	res, err := s.Put(t.Context(), tracker.PutRequest{InfoHash: Hash(1), Addr: Addr(2), Now: t0, NoCreate: true, NumWant: 5}, nil)
	require.NoError(t, err, "known swarms are served")
	assert.Equal(t, []netip.AddrPort{Addr(1)}, addrs(res.Peers))
	assert.Equal(t, 2, res.Counts.Incomplete)
}

func testExpire(t *testing.T, s tracker.Store) {
	put(t, s, 1, 1, false, t0, 0)
	put(t, s, 1, 2, true, t0.Add(time.Minute), 0)
	put(t, s, 2, 3, false, t0, 0)
	n, err := s.Expire(t.Context(), t0)
	require.NoError(t, err)
	assert.Equal(t, 0, n)
	n, err = s.Expire(t.Context(), t0.Add(time.Second))
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, []tracker.Counts{{Complete: 1}, {}}, scrape(t, s, 1, 2))
	assert.Equal(t, tracker.Totals{Swarms: 1, Peers: 1}, totals(t, s), "an emptied swarm is dropped")
	peers, _ := put(t, s, 1, 9, false, t0.Add(time.Minute), 10)
	assert.Equal(t, []netip.AddrPort{Addr(2)}, addrs(peers), "expired peers are not handed out")
}

func testSwarms(t *testing.T, s tracker.Store) {
	want := map[metainfo.Hash]tracker.Counts{}
	for h := range 20 {
		for n := range h + 1 {
			_, c := put(t, s, h, n, n%2 == 0, t0, 0)
			want[Hash(h)] = c
		}
	}
	got := map[metainfo.Hash]tracker.Counts{}
	require.NoError(t, s.Swarms(t.Context(), func(h metainfo.Hash, c tracker.Counts) bool {
		got[h] = c
		return true
	}))
	assert.Equal(t, want, got)
	calls := 0
	require.NoError(t, s.Swarms(t.Context(), func(metainfo.Hash, tracker.Counts) bool {
		calls++
		return false // stopping early must not deadlock
	}))
	assert.Equal(t, 1, calls)
}

func testIPv6(t *testing.T, s tracker.Store) {
	v6 := netip.MustParseAddrPort("[2001:db8::1]:7000")
	do(t, s, tracker.PutRequest{InfoHash: Hash(1), Addr: v6, Seeder: true, Now: t0})
	put(t, s, 1, 1, true, t0, 0)
	peers, _ := put(t, s, 1, 2, false, t0, 10)
	assert.ElementsMatch(t, []netip.AddrPort{v6, Addr(1)}, addrs(peers))
}
