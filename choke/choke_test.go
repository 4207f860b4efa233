package choke

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDecideLeech covers one full round when leeching: who gets the regular slots (in rank
// order), which peers may get the optimistic one, and who is snubbed.
func TestDecideLeech(t *testing.T) {
	now := at(100)
	unchoked := func(p Peer) Peer { p.Choked = false; return p }
	uninterested := func(p Peer) Peer { p.Interested = false; return p }
	silentFor := func(p Peer, d time.Duration) Peer { p.LastBlockAt = now.Add(-d); return p }
	tests := []struct {
		name        string
		cfg         Config
		peers       []Peer
		prev        State
		wantRegular []PeerID
		wantOptFrom []PeerID // the optimistic peer is one of these; empty: none
		wantSnubbed []PeerID
		anyOrder    bool // wantRegular tie: compare as a set
	}{
		{name: "zero peers", wantRegular: []PeerID{}},
		{
			name:        "fastest four uploaders to us get the regular slots",
			peers:       []Peer{leecher(1, 10, now), leecher(2, 50, now), leecher(3, 30, now), leecher(4, 40, now), leecher(5, 20, now), leecher(6, 60, now)},
			wantRegular: []PeerID{6, 2, 4, 3},
			wantOptFrom: []PeerID{1, 5},
		},
		{
			name:        "fewer interested peers than slots: all regular, no optimistic",
			peers:       []Peer{leecher(1, 10, now), leecher(2, 0, now)},
			wantRegular: []PeerID{1, 2},
		},
		{
			name:        "uninterested peers get no slot however fast",
			peers:       []Peer{uninterested(leecher(1, 1e9, now)), leecher(2, 5, now), unchoked(uninterested(leecher(3, 1e9, now)))},
			wantRegular: []PeerID{2},
		},
		{
			name:        "only uninterested peers: nobody unchoked",
			peers:       []Peer{uninterested(leecher(1, 9, now)), uninterested(leecher(2, 9, now))},
			wantRegular: []PeerID{},
		},
		{
			name: "snubbed fast peer is demoted to optimistic only",
			peers: []Peer{unchoked(silentFor(leecher(1, 1e6, now), 61*time.Second)), leecher(2, 5, now),
				leecher(3, 4, now), leecher(4, 3, now), leecher(5, 2, now)},
			wantRegular: []PeerID{2, 3, 4, 5},
			wantOptFrom: []PeerID{1},
			wantSnubbed: []PeerID{1},
		},
		{
			name:        "silent for just under the timeout is not snubbed",
			peers:       []Peer{silentFor(leecher(1, 7, now), 59*time.Second), leecher(2, 5, now)},
			wantRegular: []PeerID{1, 2},
		},
		{
			name: "a peer that never sent a block is snubbed a minute after connecting",
			peers: []Peer{
				{ID: 1, Interested: true, Choked: true, ConnectedAt: now.Add(-60 * time.Second)},
				{ID: 2, Interested: true, Choked: true, ConnectedAt: now.Add(-59 * time.Second)},
			},
			wantRegular: []PeerID{2},
			wantOptFrom: []PeerID{1},
			wantSnubbed: []PeerID{1},
		},
		{
			name:        "configured slots",
			cfg:         Config{Slots: 2},
			peers:       []Peer{leecher(1, 1, now), leecher(2, 2, now), leecher(3, 3, now), leecher(4, 4, now)},
			wantRegular: []PeerID{4, 3},
			wantOptFrom: []PeerID{1, 2},
		},
		{
			name:        "a holder keeps its slot against a challenger within the hysteresis",
			peers:       []Peer{unchoked(leecher(1, 100, now)), leecher(2, 109, now), leecher(3, 1000, now), leecher(4, 900, now), leecher(5, 800, now)},
			prev:        State{LastRound: at(90)},
			wantRegular: []PeerID{3, 4, 5, 1},
			wantOptFrom: []PeerID{2},
		},
		{
			name:        "a challenger beyond the hysteresis takes the slot",
			peers:       []Peer{unchoked(leecher(1, 100, now)), leecher(2, 111, now), leecher(3, 1000, now), leecher(4, 900, now), leecher(5, 800, now)},
			prev:        State{LastRound: at(90)},
			wantRegular: []PeerID{3, 4, 5, 2},
			wantOptFrom: []PeerID{1},
		},
		{
			name:        "the optimistic peer is no holder: no hysteresis for it",
			peers:       []Peer{unchoked(leecher(1, 100, now)), leecher(2, 101, now), leecher(3, 1000, now), leecher(4, 900, now), leecher(5, 800, now)},
			prev:        State{LastRound: at(90), HasOptimistic: true, Optimistic: 1, OptimisticAt: at(70)},
			wantRegular: []PeerID{3, 4, 5, 2},
			wantOptFrom: []PeerID{1},
		},
		{
			name:        "bad rates are treated as zero",
			peers:       []Peer{leecher(1, -5, now), leecher(2, nan(), now), leecher(3, 1, now)},
			wantRegular: []PeerID{3, 1, 2},
			anyOrder:    true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, st := Decide(tt.cfg, tt.peers, tt.prev, now, false, newRNG(1))
			assert.True(t, d.Round)
			if tt.anyOrder {
				assert.Equal(t, sorted(tt.wantRegular), sorted(regularOf(d)))
			} else {
				assert.Equal(t, tt.wantRegular, regularOf(d))
			}
			if len(tt.wantOptFrom) == 0 {
				assert.False(t, d.HasOptimistic, "optimistic %d", d.Optimistic)
			} else {
				require.True(t, d.HasOptimistic)
				assert.Contains(t, tt.wantOptFrom, d.Optimistic)
				assert.Equal(t, State{HasOptimistic: true, Optimistic: d.Optimistic, OptimisticAt: now,
					LastRound: now}, st)
			}
			assert.Equal(t, tt.wantSnubbed, d.Snubbed)
		})
	}
}

func nan() float64 { var z float64; return z / z }

// TestReciprocation runs rounds while rates change: the fastest uploaders to us keep their
// slots, and a peer that starts uploading fast wins one at the next round, not before.
func TestReciprocation(t *testing.T) {
	now := at(0)
	d := &driver{rng: newRNG(7)}
	for id := PeerID(1); id <= 8; id++ {
		d.peers = append(d.peers, leecher(id, float64(id)*100, now))
	}
	dec := d.step(now)
	require.Equal(t, []PeerID{8, 7, 6, 5}, regularOf(dec))
	for round := 1; round <= 6; round++ {
		now = at(float64(round) * 10)
		for i := range d.peers {
			d.peers[i].LastBlockAt = now
		}
		if round == 3 {
			d.peer(1).DownRate = 5000 // peer 1 starts reciprocating hard
		}
		last := regularOf(dec)
		between := d.step(now.Add(-2 * time.Second)) // between rounds: nothing is re-ranked
		assert.False(t, between.Round)
		assert.Equal(t, sorted(last), sorted(regularOf(between)), "round %d", round)
		dec = d.step(now)
		require.True(t, dec.Round)
		if round < 3 {
			assert.Equal(t, []PeerID{8, 7, 6, 5}, regularOf(dec), "round %d", round)
		} else {
			assert.Equal(t, []PeerID{1, 8, 7, 6}, regularOf(dec), "round %d", round)
		}
	}
}

// TestRoundDue checks the round schedule, with its tolerance for ticker jitter.
func TestRoundDue(t *testing.T) {
	last := at(100)
	tests := []struct {
		name    string
		state   State
		now     time.Time
		seeding bool
		want    bool
	}{
		{name: "fresh state", state: State{}, now: at(0), want: true},
		{name: "just after a round", state: State{LastRound: last}, now: at(101), want: false},
		{name: "just under 95 % of the interval", state: State{LastRound: last}, now: at(109.49), want: false},
		{name: "a tick slightly early", state: State{LastRound: last}, now: at(109.5), want: true},
		{name: "on time", state: State{LastRound: last}, now: at(110), want: true},
		{name: "late", state: State{LastRound: last}, now: at(200), want: true},
		{name: "mode changed to seeding", state: State{LastRound: last}, now: at(101), seeding: true, want: true},
		{name: "clock went back", state: State{LastRound: last}, now: at(50), want: true},
		{name: "a round recorded a little ahead of now", state: State{LastRound: last}, now: at(99.6), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.state.RoundDue(Config{}, tt.now, tt.seeding))
		})
	}
	assert.Equal(t, at(109.5), State{LastRound: last}.NextRound(Config{}))
	assert.True(t, State{}.NextRound(Config{}).IsZero())
}

// TestConfigDefaults pins the defaults of the issue.
func TestConfigDefaults(t *testing.T) {
	want := Config{Slots: 4, Interval: 10 * time.Second, OptimisticInterval: 30 * time.Second,
		SnubTimeout: time.Minute, NewPeerWindow: time.Minute, Hysteresis: 0.1}
	assert.Equal(t, want, Config{}.withDefaults())
	assert.Equal(t, want, Config{Slots: -1, Interval: -1, Hysteresis: nan()}.withDefaults())
	assert.Equal(t, 0.0, Config{Hysteresis: -1}.withDefaults().Hysteresis)
}
