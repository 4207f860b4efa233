package tracker

import (
	"math/rand/v2"
	"net/netip"
)

// seederBit marks an index entry that points into swarm.seeders.
const seederBit = 1 << 31

// peerRec is one stored peer: 48 bytes, no pointers.
type peerRec struct {
	id        PeerID
	ip        [16]byte
	port      uint16
	completed bool
	seen      int64 // unix nanoseconds of the last announce
}

func (r *peerRec) peer() Peer {
	return Peer{ID: r.id, Addr: netip.AddrPortFrom(netip.AddrFrom16(r.ip).Unmap(), r.port)}
}

// swarm is the state of one info-hash. Invariant: index[id] names the list (seederBit) and the
// position of the record whose id is id, for every record in both lists.
type swarm struct {
	seeders    []peerRec
	leechers   []peerRec
	index      map[PeerID]uint32
	downloaded int
}

func (sw *swarm) counts() Counts {
	return Counts{Complete: len(sw.seeders), Incomplete: len(sw.leechers), Downloaded: sw.downloaded}
}

func (sw *swarm) list(loc uint32) *[]peerRec {
	if loc&seederBit != 0 {
		return &sw.seeders
	}
	return &sw.leechers
}

// put inserts or refreshes a peer and returns how many records it added (0 or 1).
func (sw *swarm) put(req PutRequest, maxPeers int) (int, error) {
	rec := peerRec{
		id:   req.Peer.ID,
		ip:   req.Peer.Addr.Addr().As16(),
		port: req.Peer.Addr.Port(),
		seen: req.Now.UnixNano(),
	}
	loc, known := sw.index[rec.id]
	if known {
		l := *sw.list(loc)
		rec.completed = l[loc&^seederBit].completed
	} else if maxPeers > 0 && len(sw.seeders)+len(sw.leechers) >= maxPeers {
		return 0, ErrSwarmFull
	}
	// A download counts once per peer: on event=completed, or when a peer known as a leecher
	// reports left=0 (aria2 with --seed-time=0 goes straight to stopped, skipping completed).
	finished := req.Completed || known && loc&seederBit == 0 && req.Seeder
	if finished && !rec.completed {
		rec.completed = true
		sw.downloaded++
	}
	if known && (loc&seederBit != 0) == req.Seeder {
		(*sw.list(loc))[loc&^seederBit] = rec
		return 0, nil
	}
	if known {
		sw.removeAt(loc)
	}
	sw.add(rec, req.Seeder)
	if known {
		return 0, nil
	}
	return 1, nil
}

func (sw *swarm) add(rec peerRec, seeder bool) {
	if seeder {
		sw.index[rec.id] = uint32(len(sw.seeders)) | seederBit
		sw.seeders = append(sw.seeders, rec)
		return
	}
	sw.index[rec.id] = uint32(len(sw.leechers))
	sw.leechers = append(sw.leechers, rec)
}

// removeAt deletes the record at loc by moving the list's last record into its place.
func (sw *swarm) removeAt(loc uint32) {
	lp := sw.list(loc)
	l := *lp
	i := loc &^ seederBit
	delete(sw.index, l[i].id)
	last := uint32(len(l) - 1)
	if i != last {
		l[i] = l[last]
		sw.index[l[i].id] = i | (loc & seederBit)
	}
	*lp = shrink(l[:last])
}

// shrink gives memory back after churn so that a swarm that was once large stays cheap.
func shrink(l []peerRec) []peerRec {
	if cap(l) > 64 && len(l) < cap(l)/4 {
		return append(make([]peerRec, 0, 2*len(l)), l...)
	}
	return l
}

func (sw *swarm) expire(cutoff int64) int {
	n := 0
	for _, bit := range []uint32{0, seederBit} {
		l := sw.list(bit)
		for i := 0; i < len(*l); {
			if (*l)[i].seen < cutoff {
				sw.removeAt(uint32(i) | bit)
				n++
				continue
			}
			i++
		}
	}
	return n
}

// sample appends up to want peers, never self and only leechers for a seeder. It walks the
// candidates from a random start with a random stride coprime to their number, which visits
// distinct peers in a random-looking order without allocating.
func (sw *swarm) sample(dst []Peer, self PeerID, seeder bool, want int, rng *rand.Rand) []Peer {
	n := len(sw.leechers)
	if !seeder {
		n += len(sw.seeders)
	}
	if want <= 0 || n == 0 {
		return dst
	}
	start, stride := 0, 1
	if n > want+1 {
		start, stride = rng.IntN(n), coprimeStride(n, rng)
	}
	skip := sw.candidateIndex(self)
	got := 0
	for i, idx := 0, start; i < n && got < want; i, idx = i+1, (idx+stride)%n {
		if idx == skip {
			continue
		}
		dst = append(dst, sw.candidate(idx).peer())
		got++
	}
	return dst
}

// candidateIndex returns the candidate number of id, or -1 when it is not stored.
func (sw *swarm) candidateIndex(id PeerID) int {
	loc, ok := sw.index[id]
	switch {
	case !ok:
		return -1
	case loc&seederBit != 0:
		return len(sw.leechers) + int(loc&^seederBit)
	}
	return int(loc)
}

// candidate numbers leechers first, then seeders.
func (sw *swarm) candidate(i int) *peerRec {
	if i < len(sw.leechers) {
		return &sw.leechers[i]
	}
	return &sw.seeders[i-len(sw.leechers)]
}

func coprimeStride(n int, rng *rand.Rand) int {
	s := 1 + rng.IntN(n-1)
	for gcd(s, n) != 1 {
		s++
	}
	return s
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
