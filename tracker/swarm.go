package tracker

import (
	"math/rand/v2"
	"net/netip"
)

// seederBit marks an index entry that points into swarm.seeders.
const seederBit = 1 << 31

// addrKey is a peer's address, the key of its record: 16 bytes of IP, 2 of port.
type addrKey [18]byte

func keyOf(a netip.AddrPort) addrKey {
	var k addrKey
	ip := a.Addr().As16()
	copy(k[:16], ip[:])
	k[16], k[17] = byte(a.Port()>>8), byte(a.Port())
	return k
}

// peerRec is one stored peer: 32 bytes, no pointers.
type peerRec struct {
	key       addrKey
	completed bool
	seen      int64 // unix nanoseconds of the last announce
}

func (r *peerRec) peer() Peer {
	port := uint16(r.key[16])<<8 | uint16(r.key[17])
	return Peer{Addr: netip.AddrPortFrom(netip.AddrFrom16([16]byte(r.key[:16])).Unmap(), port)}
}

// swarm is the state of one info-hash. Invariant: index[k] names the list (seederBit) and the
// position of the record whose key is k, for every record in both lists.
type swarm struct {
	seeders    []peerRec
	leechers   []peerRec
	index      map[addrKey]uint32
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
func (sw *swarm) put(req PutRequest, maxPeers int, rng *rand.Rand) (int, error) {
	rec := peerRec{key: keyOf(req.Addr), seen: req.Now.UnixNano()}
	loc, known := sw.index[rec.key]
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
	sw.add(rec, req.Seeder, rng)
	if known {
		return 0, nil
	}
	return 1, nil
}

// stop records a stopping peer's final state (a download it finished since its last
// announce counts) and removes it; it returns how many records it removed (0 or 1).
func (sw *swarm) stop(req PutRequest) int {
	loc, known := sw.index[keyOf(req.Addr)]
	if !known {
		return 0
	}
	rec := (*sw.list(loc))[loc&^seederBit]
	if req.Seeder && !rec.completed && (req.Completed || loc&seederBit == 0) {
		sw.downloaded++
	}
	sw.removeAt(loc)
	return 1
}

// add appends rec at a uniformly random position of its list (the newcomer swaps places
// with a random record), so that each list stays in random order and any run of
// consecutive records is a random sample: see sample. Removal moves the last record into
// the hole, which keeps the order random.
func (sw *swarm) add(rec peerRec, seeder bool, rng *rand.Rand) {
	var bit uint32
	if seeder {
		bit = seederBit
	}
	lp := sw.list(bit)
	l := append(*lp, rec)
	i, j := len(l)-1, rng.IntN(len(l))
	l[i], l[j] = l[j], l[i]
	sw.index[l[j].key] = uint32(j) | bit
	if i != j {
		sw.index[l[i].key] = uint32(i) | bit
	}
	*lp = l
}

// removeAt deletes the record at loc by moving the list's last record into its place.
func (sw *swarm) removeAt(loc uint32) {
	lp := sw.list(loc)
	l := *lp
	i := loc &^ seederBit
	delete(sw.index, l[i].key)
	last := uint32(len(l) - 1)
	if i != last {
		l[i] = l[last]
		sw.index[l[i].key] = i | (loc & seederBit)
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

// sample appends up to want peers, never self and only leechers for a seeder. Because each
// list is kept in random order (see add), a run of consecutive records from a random start
// is a uniform random sample; reading it touches a few adjacent cache lines and pages
// instead of want scattered ones, which dominated the cost of an announce at hundreds of
// thousands of stored peers. Leechers and seeders are sampled apart, in proportion, so that
// a leecher gets the swarm's mix rather than a run of only one kind.
func (sw *swarm) sample(dst []Peer, self addrKey, seeder bool, want int, rng *rand.Rand) []Peer {
	selfLoc, stored := sw.index[self]
	skipL, skipS := -1, -1
	if stored && selfLoc&seederBit != 0 {
		skipS = int(selfLoc &^ seederBit)
	} else if stored {
		skipL = int(selfLoc)
	}
	nl := len(sw.leechers) - b2i(skipL >= 0)
	ns := 0
	if !seeder {
		ns = len(sw.seeders) - b2i(skipS >= 0)
	}
	n := nl + ns
	if want <= 0 || n <= 0 {
		return dst
	}
	want = min(want, n)
	// Random rounding keeps the expected share of seeders exact; either way fromSeeds <= ns
	// and want-fromSeeds <= nl.
	fromSeeds := (want*ns + rng.IntN(n)) / n
	dst = window(dst, sw.leechers, want-fromSeeds, skipL, rng)
	return window(dst, sw.seeders, fromSeeds, skipS, rng)
}

// window appends k consecutive records of l (wrapping) from a random start, passing over
// index skip. k must not exceed the records other than skip.
func window(dst []Peer, l []peerRec, k, skip int, rng *rand.Rand) []Peer {
	if k <= 0 {
		return dst
	}
	for i := rng.IntN(len(l)); k > 0; i++ {
		if i == len(l) {
			i = 0
		}
		if i != skip {
			dst = append(dst, l[i].peer())
			k--
		}
	}
	return dst
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
