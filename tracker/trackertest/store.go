// Package trackertest holds test helpers for the tracker package: the Store conformance suite
// that every Store implementation runs.
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
func TestStore(t *testing.T, newStore func() tracker.Store) {
	t.Run("put and scrape", func(t *testing.T) { testPutScrape(t, newStore()) })
	t.Run("reannounce updates", func(t *testing.T) { testReannounce(t, newStore()) })
	t.Run("completed counted once", func(t *testing.T) { testCompletedOnce(t, newStore()) })
	t.Run("remove", func(t *testing.T) { testRemove(t, newStore()) })
	t.Run("sample excludes self", func(t *testing.T) { testSampleSelf(t, newStore()) })
	t.Run("seeders get no seeders", func(t *testing.T) { testSeederSample(t, newStore()) })
	t.Run("sample bounded and distinct", func(t *testing.T) { testSampleDistinct(t, newStore()) })
	t.Run("expire", func(t *testing.T) { testExpire(t, newStore()) })
	t.Run("swarms", func(t *testing.T) { testSwarms(t, newStore()) })
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

func put(t *testing.T, s tracker.Store, h, n int, seeder bool, at time.Time, want int) ([]tracker.Peer, tracker.Counts) {
	t.Helper()
	req := tracker.PutRequest{
		InfoHash: Hash(h), Peer: tracker.Peer{ID: ID(n), Addr: Addr(n)},
		Seeder: seeder, Now: at, NumWant: want,
	}
	peers, c, err := s.Put(req, nil)
	require.NoError(t, err)
	return peers, c
}

func testPutScrape(t *testing.T, s tracker.Store) {
	put(t, s, 1, 1, true, t0, 0)
	put(t, s, 1, 2, false, t0, 0)
	_, c := put(t, s, 1, 3, false, t0, 0)
	assert.Equal(t, tracker.Counts{Complete: 1, Incomplete: 2}, c)
	got, ok := s.Scrape(Hash(1))
	require.True(t, ok)
	assert.Equal(t, c, got)
	_, ok = s.Scrape(Hash(2))
	assert.False(t, ok)
	swarms, peers := s.Len()
	assert.Equal(t, 1, swarms)
	assert.Equal(t, 3, peers)
}

func testReannounce(t *testing.T, s tracker.Store) {
	put(t, s, 1, 1, false, t0, 0)
	put(t, s, 1, 1, false, t0, 0)
	_, c := put(t, s, 1, 1, true, t0, 0)
	assert.Equal(t, tracker.Counts{Complete: 1, Downloaded: 1}, c, "moved to seeders")
	_, peers := s.Len()
	assert.Equal(t, 1, peers)
	moved := netip.MustParseAddrPort("10.9.9.9:7000")
	got, _, err := s.Put(tracker.PutRequest{InfoHash: Hash(1), Peer: tracker.Peer{ID: ID(2), Addr: Addr(2)}, Now: t0, NumWant: 5}, nil)
	require.NoError(t, err)
	require.Len(t, got, 1)
	_, _, err = s.Put(tracker.PutRequest{InfoHash: Hash(1), Peer: tracker.Peer{ID: ID(1), Addr: moved}, Seeder: true, Now: t0}, nil)
	require.NoError(t, err)
	got, _, err = s.Put(tracker.PutRequest{InfoHash: Hash(1), Peer: tracker.Peer{ID: ID(2), Addr: Addr(2)}, Now: t0, NumWant: 5}, nil)
	require.NoError(t, err)
	assert.Equal(t, []tracker.Peer{{ID: ID(1), Addr: moved}}, got)
}

func testCompletedOnce(t *testing.T, s tracker.Store) {
	for range 3 {
		_, _, err := s.Put(tracker.PutRequest{InfoHash: Hash(1), Peer: tracker.Peer{ID: ID(1), Addr: Addr(1)},
			Seeder: true, Completed: true, Now: t0}, nil)
		require.NoError(t, err)
	}
	c, _ := s.Scrape(Hash(1))
	assert.Equal(t, tracker.Counts{Complete: 1, Downloaded: 1}, c)

	put(t, s, 2, 1, false, t0, 0)
	put(t, s, 2, 1, true, t0, 0)
	_, c = put(t, s, 2, 1, true, t0, 0)
	assert.Equal(t, tracker.Counts{Complete: 1, Downloaded: 1}, c, "a leecher turning seeder is a download")
	_, c = put(t, s, 2, 2, true, t0, 0)
	assert.Equal(t, 1, c.Downloaded, "a peer that arrives as a seeder is not")
}

func testRemove(t *testing.T, s tracker.Store) {
	put(t, s, 1, 1, false, t0, 0)
	put(t, s, 1, 2, true, t0, 0)
	assert.Equal(t, tracker.Counts{Complete: 0, Incomplete: 1}, s.Remove(Hash(1), ID(2)))
	assert.Equal(t, tracker.Counts{}, s.Remove(Hash(1), ID(1)))
	assert.Equal(t, tracker.Counts{}, s.Remove(Hash(1), ID(1)), "removing twice is harmless")
	assert.Equal(t, tracker.Counts{}, s.Remove(Hash(9), ID(1)), "unknown swarm")
	_, peers := s.Len()
	assert.Equal(t, 0, peers)
}

func testSampleSelf(t *testing.T, s tracker.Store) {
	for n := range 10 {
		peers, _ := put(t, s, 1, n, false, t0, 50)
		assert.Len(t, peers, n)
		for _, p := range peers {
			assert.NotEqual(t, ID(n), p.ID)
		}
	}
}

func testSeederSample(t *testing.T, s tracker.Store) {
	for n := range 5 {
		put(t, s, 1, n, true, t0, 0)
	}
	put(t, s, 1, 100, false, t0, 0)
	peers, _ := put(t, s, 1, 101, true, t0, 50)
	assert.Equal(t, []tracker.Peer{{ID: ID(100), Addr: Addr(100)}}, peers)
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
		seen := map[tracker.PeerID]bool{}
		for _, p := range peers {
			assert.False(t, seen[p.ID], "duplicate peer in sample")
			seen[p.ID] = true
			assert.NotEqual(t, ID(1000), p.ID)
		}
	}
}

func testExpire(t *testing.T, s tracker.Store) {
	put(t, s, 1, 1, false, t0, 0)
	put(t, s, 1, 2, true, t0.Add(time.Minute), 0)
	put(t, s, 2, 3, false, t0, 0)
	assert.Equal(t, 0, s.Expire(t0))
	assert.Equal(t, 2, s.Expire(t0.Add(time.Second)))
	c, ok := s.Scrape(Hash(1))
	require.True(t, ok)
	assert.Equal(t, tracker.Counts{Complete: 1}, c)
	_, ok = s.Scrape(Hash(2))
	assert.False(t, ok, "an emptied swarm is dropped")
	swarms, peers := s.Len()
	assert.Equal(t, 1, swarms)
	assert.Equal(t, 1, peers)
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
	for h, c := range s.Swarms() {
		got[h] = c
	}
	assert.Equal(t, want, got)
	for range s.Swarms() {
		break // stopping early must not deadlock
	}
}
