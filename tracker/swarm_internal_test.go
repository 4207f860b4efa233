package tracker

import (
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSampleInvariants checks sample over many swarm shapes, with the requester stored as a
// leecher, as a seeder or not at all: never self, no peer twice, only leechers for a seeder,
// and exactly min(want, candidates) peers.
func TestSampleInvariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	addr := func(n int) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(n >> 8), byte(n)}), 1)
	}
	for round := range 2000 {
		sw := &swarm{index: map[addrKey]uint32{}}
		nl, ns := rng.IntN(40), rng.IntN(40)
		for n := range nl + ns {
			_, err := sw.put(PutRequest{Addr: addr(n), Seeder: n >= nl, Now: time.Unix(1, 0)}, 0, rng)
			require.NoError(t, err)
		}
		self := keyOf(addr(rng.IntN(nl + ns + 1))) // sometimes not stored
		selfLoc, stored := sw.index[self]
		seeder := rng.IntN(2) == 0
		want := rng.IntN(60)
		cands := nl
		if !seeder {
			cands += ns
		}
		if stored && (selfLoc&seederBit == 0 || !seeder) {
			cands--
		}
		got := sw.sample(nil, self, seeder, want, rng)
		require.Len(t, got, min(want, cands), "round %d: %d leechers, %d seeders, want %d, seeder %v", round, nl, ns, want, seeder)
		seen := map[addrKey]bool{}
		for _, p := range got {
			k := keyOf(p.Addr)
			require.NotEqual(t, self, k, "round %d", round)
			require.False(t, seen[k], "round %d: %v twice", round, p.Addr)
			seen[k] = true
			if seeder {
				require.Zero(t, sw.index[k]&seederBit, "round %d: a seeder got a seeder", round)
			}
		}
	}
}
