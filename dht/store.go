package dht

import (
	"math/rand/v2"
	"net/netip"
	"time"
)

// peerTTL is how long an announce stays stored: clients re-announce every 15 to 30 minutes.
const peerTTL = 30 * time.Minute

// StoreConfig caps the peer store, so memory stays bounded under a flood of announces.
type StoreConfig struct {
	// MaxPerHash caps the peers kept for one info-hash (default 500).
	MaxPerHash int
	// MaxHashes caps the info-hashes kept (default 10,000).
	MaxHashes int
	// MaxPeers caps the peers kept in all (default 50,000).
	MaxPeers int
}

func (c *StoreConfig) defaults() {
	if c.MaxPerHash <= 0 {
		c.MaxPerHash = 500
	}
	if c.MaxHashes <= 0 {
		c.MaxHashes = 10000
	}
	if c.MaxPeers <= 0 {
		c.MaxPeers = 50000
	}
}

// peerStore holds the peers announced to us. When a cap is reached, a random victim makes
// room (an info-hash, or a peer of that info-hash): a flood can then only dilute the store,
// never lock honest announces out for half an hour. Pure logic, not safe for concurrent use.
type peerStore struct {
	cfg    StoreConfig
	hashes map[ID]*swarmPeers
	keys   []ID // for picking a random victim in O(1)
	total  int
}

type swarmPeers struct {
	at    int // index in keys
	peers []storedPeer
}

// find returns the index of addr, or -1. A linear scan: at most MaxPerHash entries, and no
// map per info-hash keeps a flood of one-peer info-hashes cheap.
func (sp *swarmPeers) find(addr netip.AddrPort) int {
	for i, p := range sp.peers {
		if p.addr == addr {
			return i
		}
	}
	return -1
}

type storedPeer struct {
	addr    netip.AddrPort
	expires time.Time
}

func newPeerStore(cfg StoreConfig) *peerStore {
	cfg.defaults()
	return &peerStore{cfg: cfg, hashes: map[ID]*swarmPeers{}}
}

// add stores addr for ih until now+peerTTL.
func (s *peerStore) add(ih ID, addr netip.AddrPort, now time.Time, r *rand.Rand) {
	sp := s.hashes[ih]
	if sp == nil {
		if len(s.keys) >= s.cfg.MaxHashes {
			s.removeHash(s.keys[r.IntN(len(s.keys))])
		}
		sp = &swarmPeers{at: len(s.keys)}
		s.hashes[ih] = sp
		s.keys = append(s.keys, ih)
	}
	if i := sp.find(addr); i >= 0 {
		sp.peers[i].expires = now.Add(peerTTL)
		return
	}
	if len(sp.peers) >= s.cfg.MaxPerHash {
		s.removePeer(sp, r.IntN(len(sp.peers)))
	} else if s.total >= s.cfg.MaxPeers {
		victim := s.hashes[s.keys[r.IntN(len(s.keys))]]
		if len(victim.peers) > 0 {
			s.removePeer(victim, r.IntN(len(victim.peers)))
		}
	}
	sp.peers = append(sp.peers, storedPeer{addr: addr, expires: now.Add(peerTTL)})
	s.total++
}

func (s *peerStore) removePeer(sp *swarmPeers, i int) {
	last := len(sp.peers) - 1
	sp.peers[i] = sp.peers[last]
	sp.peers = sp.peers[:last]
	s.total--
}

func (s *peerStore) removeHash(ih ID) {
	sp := s.hashes[ih]
	last := len(s.keys) - 1
	if sp.at != last {
		s.keys[sp.at] = s.keys[last]
		s.hashes[s.keys[sp.at]].at = sp.at
	}
	s.keys = s.keys[:last]
	s.total -= len(sp.peers)
	delete(s.hashes, ih)
}

// get returns up to n live peers of ih, a random sample when there are more.
func (s *peerStore) get(ih ID, n int, now time.Time, r *rand.Rand) []netip.AddrPort {
	sp := s.hashes[ih]
	if sp == nil {
		return nil
	}
	out := make([]netip.AddrPort, 0, min(n, len(sp.peers)))
	start := 0
	if len(sp.peers) > n {
		start = r.IntN(len(sp.peers))
	}
	for i := range sp.peers {
		p := sp.peers[(start+i)%len(sp.peers)]
		if len(out) == n {
			break
		}
		if now.Before(p.expires) {
			out = append(out, p.addr)
		}
	}
	return out
}

// expire drops every peer whose announce is older than peerTTL.
func (s *peerStore) expire(now time.Time) {
	for i := len(s.keys) - 1; i >= 0; i-- {
		ih := s.keys[i]
		sp := s.hashes[ih]
		for j := len(sp.peers) - 1; j >= 0; j-- {
			if !now.Before(sp.peers[j].expires) {
				s.removePeer(sp, j)
			}
		}
		if len(sp.peers) == 0 {
			s.removeHash(ih)
		}
	}
}
