package peer

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/swarm-bt/swarm/peer/mse"
)

// TestWays: the attempts per policy, and under Prefer the way that worked last goes first.
func TestWays(t *testing.T) {
	a := netip.MustParseAddrPort("127.0.0.1:6881")
	b := netip.MustParseAddrPort("127.0.0.2:6881")
	for _, tc := range []struct {
		policy mse.Policy
		want   []way
	}{
		{mse.Off, []way{wayPlain}},
		{mse.Require, []way{wayMSE}},
		{mse.Prefer, []way{wayMSE, wayPlain}},
	} {
		s := &Session{cfg: SessionConfig{Encryption: tc.policy}}
		assert.Equal(t, tc.want, s.ways(a), tc.policy.String())
	}
	s := &Session{cfg: SessionConfig{Encryption: mse.Prefer}}
	s.encMemory.set(a, wayPlain)
	assert.Equal(t, []way{wayPlain, wayMSE}, s.ways(a))
	assert.Equal(t, []way{wayMSE, wayPlain}, s.ways(b))
	s.encMemory.set(a, wayMSE)
	assert.Equal(t, []way{wayMSE, wayPlain}, s.ways(a))
}

// TestEncMemoryBounded: the memory never holds more than maxEncMemory peers.
func TestEncMemoryBounded(t *testing.T) {
	var m encMemory
	for i := range maxEncMemory + 100 {
		m.set(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 1), wayPlain)
	}
	assert.Len(t, m.m, maxEncMemory)
}
