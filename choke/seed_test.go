package choke

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seedPeer is an interested peer that never sends us anything (we are a seed) and that we
// upload to at up bytes per second.
func seedPeer(id PeerID, up float64) Peer {
	return Peer{ID: id, Interested: true, Choked: true, UpRate: up, ConnectedAt: t0}
}

// TestSeedFastestUpload: a seed ranks by the rate we upload to each peer, ignores the rate
// they send us, and snubs nobody (nobody uploads to a seed).
func TestSeedFastestUpload(t *testing.T) {
	now := at(3600)
	peers := []Peer{seedPeer(1, 10), seedPeer(2, 60), seedPeer(3, 30), seedPeer(4, 50),
		seedPeer(5, 40), seedPeer(6, 20)}
	peers[0].DownRate = 1e9                                          // a seed does not care what peers send
	peers = append(peers, Peer{ID: 7, UpRate: 1e9, ConnectedAt: t0}) // not interested
	d, st := Decide(Config{}, peers, State{}, now, true, newRNG(1))
	assert.Equal(t, []PeerID{2, 4, 5, 3}, regularOf(d))
	require.True(t, d.HasOptimistic)
	assert.Contains(t, []PeerID{1, 6}, d.Optimistic)
	assert.Empty(t, d.Snubbed)
	assert.True(t, st.Seeding)
}

// TestSeedRoundRobin: the regular slots walk through the interested peers in ID order, four
// at a time, skipping uninterested peers and peers that left, so everyone is served in turn.
func TestSeedRoundRobin(t *testing.T) {
	cfg := Config{SeedPolicy: SeedRoundRobin}
	d := &driver{cfg: cfg, seeding: true, rng: newRNG(2)}
	for id := PeerID(0); id < 10; id++ {
		d.peers = append(d.peers, seedPeer(id, float64(100-id))) // rates must not matter
	}
	d.peer(5).Interested = false
	want := [][]PeerID{
		{0, 1, 2, 3},
		{4, 6, 7, 8},
		{9, 0, 1, 2},
		{3, 4, 6, 7},
	}
	for round, w := range want {
		dec := d.step(at(float64(10 * round)))
		require.True(t, dec.Round)
		assert.Equal(t, w, regularOf(dec), "round %d", round)
		if dec.HasOptimistic {
			assert.NotContains(t, w, dec.Optimistic)
			assert.NotEqual(t, PeerID(5), dec.Optimistic)
		}
	}
	d.peers = removePeer(d.peers, 8)
	dec := d.step(at(40))
	assert.Equal(t, []PeerID{9, 0, 1, 2}, regularOf(dec))
}

// TestSeedModeSwitch: becoming a seed makes a round due at once, which re-ranks by upload
// rate and forgets snubbing.
func TestSeedModeSwitch(t *testing.T) {
	now := at(100)
	d := &driver{rng: newRNG(3)}
	for id := PeerID(1); id <= 5; id++ {
		p := leecher(id, float64(id), now)
		p.UpRate = float64(1000 * (6 - id))
		d.peers = append(d.peers, p)
	}
	d.peer(1).LastBlockAt = now.Add(-2 * DefaultSnubTimeout)
	dec := d.step(now)
	assert.Equal(t, []PeerID{5, 4, 3, 2}, regularOf(dec))
	assert.Equal(t, []PeerID{1}, dec.Snubbed)
	d.seeding = true
	dec = d.step(now.Add(1))
	assert.True(t, dec.Round)
	assert.Empty(t, dec.Snubbed)
	assert.Equal(t, []PeerID{1, 2, 3, 4}, regularOf(dec))
}
