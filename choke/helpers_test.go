package choke

import (
	"math/rand/v2"
	"slices"
	"time"
)

// t0 is the origin of every test clock; at(s) is t0 plus s seconds.
var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func newRNG(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// leecher is an interested, choked peer that connected long ago and sent a block at now:
// a normal reciprocating peer with the given download rate.
func leecher(id PeerID, down float64, now time.Time) Peer {
	return Peer{ID: id, Interested: true, Choked: true, DownRate: down,
		ConnectedAt: t0.Add(-time.Hour), LastBlockAt: now}
}

// apply does what the engine does with a decision: set Choked on every peer.
func apply(peers []Peer, d Decision) {
	for i := range peers {
		peers[i].Choked = !slices.Contains(d.Unchoke, peers[i].ID)
	}
}

// regularOf is the decision without its optimistic peer, in rank order.
func regularOf(d Decision) []PeerID {
	out := []PeerID{}
	for _, id := range d.Unchoke {
		if !d.HasOptimistic || id != d.Optimistic {
			out = append(out, id)
		}
	}
	return out
}

// sorted returns a sorted copy, for comparing sets.
func sorted(ids []PeerID) []PeerID {
	out := slices.Clone(ids)
	slices.Sort(out)
	if out == nil {
		out = []PeerID{}
	}
	return out
}

// driver runs Decide like the engine: it keeps the state and applies every decision.
type driver struct {
	cfg     Config
	peers   []Peer
	state   State
	rng     *rand.Rand
	seeding bool
}

func (d *driver) step(now time.Time) Decision {
	dec, st := Decide(d.cfg, d.peers, d.state, now, d.seeding, d.rng)
	d.state = st
	apply(d.peers, dec)
	return dec
}

// peer returns a pointer to the peer with id, for changing it between steps.
func (d *driver) peer(id PeerID) *Peer {
	for i := range d.peers {
		if d.peers[i].ID == id {
			return &d.peers[i]
		}
	}
	return nil
}
