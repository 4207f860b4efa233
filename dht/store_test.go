package dht

import (
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTokens(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	ip, other := netip.MustParseAddr("11.1.1.1"), netip.MustParseAddr("11.1.1.2")
	tests := []struct {
		name  string
		after time.Duration
		ip    netip.Addr
		want  bool
	}{
		{"at once", 0, ip, true},
		{"other address", 0, other, false},
		{"4 minutes later", 4 * time.Minute, ip, true},
		{"after one rotation", 6 * time.Minute, ip, true},
		{"just before the second rotation", 9*time.Minute + 59*time.Second, ip, true},
		{"after two rotations", 10 * time.Minute, ip, false},
		{"an hour later", time.Hour, ip, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tk := newTokens(t0, r)
			tok := tk.make(ip, t0, r)
			assert.Len(t, tok, tokenLen)
			assert.Equal(t, tc.want, tk.valid(tok, tc.ip, t0.Add(tc.after), r))
		})
	}
	tk := newTokens(t0, r)
	assert.False(t, tk.valid("", ip, t0, r))
	assert.False(t, tk.valid("12345678", ip, t0, r))
}

func TestPeerStore(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	ih := ID{1}
	p := func(i int) netip.AddrPort {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{11, 0, 0, byte(i)}), 6881)
	}
	t.Run("expiry", func(t *testing.T) {
		s := newPeerStore(StoreConfig{})
		s.add(ih, p(1), t0, r)
		s.add(ih, p(2), t0.Add(20*time.Minute), r)
		assert.ElementsMatch(t, []netip.AddrPort{p(1), p(2)}, s.get(ih, 50, t0.Add(29*time.Minute), r))
		assert.Equal(t, []netip.AddrPort{p(2)}, s.get(ih, 50, t0.Add(30*time.Minute), r))
		s.expire(t0.Add(30 * time.Minute))
		assert.Equal(t, 1, s.total)
		s.expire(t0.Add(50 * time.Minute))
		assert.Equal(t, 0, s.total)
		assert.Empty(t, s.hashes)
		assert.Empty(t, s.keys)
	})
	t.Run("re-announce refreshes", func(t *testing.T) {
		s := newPeerStore(StoreConfig{})
		s.add(ih, p(1), t0, r)
		s.add(ih, p(1), t0.Add(25*time.Minute), r)
		assert.Equal(t, 1, s.total)
		assert.Equal(t, []netip.AddrPort{p(1)}, s.get(ih, 50, t0.Add(40*time.Minute), r))
	})
	t.Run("cap per info-hash", func(t *testing.T) {
		s := newPeerStore(StoreConfig{MaxPerHash: 10})
		for i := range 100 {
			s.add(ih, p(i), t0, r)
		}
		assert.Equal(t, 10, s.total)
		assert.Len(t, s.get(ih, 50, t0, r), 10)
		assert.Len(t, s.get(ih, 3, t0, r), 3)
	})
	t.Run("cap on info-hashes and peers", func(t *testing.T) {
		s := newPeerStore(StoreConfig{MaxHashes: 100, MaxPeers: 150})
		for i := range 100000 {
			s.add(ID{byte(i), byte(i >> 8), byte(i >> 16)}, p(i%3), t0, r)
		}
		assert.LessOrEqual(t, len(s.hashes), 100)
		assert.Equal(t, len(s.hashes), len(s.keys))
		assert.LessOrEqual(t, s.total, 151)
		for i, k := range s.keys {
			assert.Equal(t, i, s.hashes[k].at)
		}
	})
}

func TestLimiters(t *testing.T) {
	l := newLimiters(10, 20, 3)
	a := netip.MustParseAddrPort("11.0.0.1:1")
	allowed := 0
	for range 100 {
		if l.allow(a, t0) {
			allowed++
		}
	}
	assert.Equal(t, 20, allowed, "burst")
	assert.True(t, l.allow(netip.MustParseAddrPort("11.0.0.1:2"), t0.Add(100*time.Millisecond)), "refilled; the port does not matter")
	assert.False(t, l.allow(a, t0.Add(100*time.Millisecond)))
	// The map is capped: with 3 busy sources a fourth is refused until one is idle.
	l.allow(netip.MustParseAddrPort("11.0.0.2:1"), t0)
	l.allow(netip.MustParseAddrPort("11.0.0.3:1"), t0)
	assert.False(t, l.allow(netip.MustParseAddrPort("11.0.0.4:1"), t0.Add(50*time.Millisecond)))
	assert.True(t, l.allow(netip.MustParseAddrPort("11.0.0.4:1"), t0.Add(time.Minute)))
	assert.LessOrEqual(t, len(l.m), 3)
	// Loopback sources are keyed by port.
	lo := newLimiters(1, 1, 10)
	assert.True(t, lo.allow(netip.MustParseAddrPort("127.0.0.1:1"), t0))
	assert.True(t, lo.allow(netip.MustParseAddrPort("127.0.0.1:2"), t0))
	assert.False(t, lo.allow(netip.MustParseAddrPort("127.0.0.1:1"), t0))
}

func TestAddrRules(t *testing.T) {
	public, local := netip.MustParseAddrPort("11.0.0.1:6881"), netip.MustParseAddrPort("192.168.1.5:6881")
	tests := []struct {
		name       string
		allowLocal bool
		addr, from netip.AddrPort
		want       bool
	}{
		{"public from public", false, public, public, true},
		{"private from public", false, local, public, false},
		{"loopback from public", false, netip.MustParseAddrPort("127.0.0.1:1"), public, false},
		{"private from public, local network", true, local, public, true},
		{"private from private", false, local, local, true},
		{"port 0", true, netip.MustParseAddrPort("11.0.0.1:0"), public, false},
		{"unspecified", true, netip.MustParseAddrPort("0.0.0.0:1"), public, false},
		{"multicast", true, netip.MustParseAddrPort("224.0.0.1:1"), public, false},
		{"broadcast", true, netip.MustParseAddrPort("255.255.255.255:1"), public, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, addrRules{allowLocal: tc.allowLocal}.usable(tc.addr, tc.from))
		})
	}
}

func TestStateRoundTrip(t *testing.T) {
	s := State{ID: ID{9}, Nodes: []NodeInfo{
		{ID: ID{1}, Addr: netip.MustParseAddrPort("11.0.0.1:6881")},
		{ID: ID{2}, Addr: netip.MustParseAddrPort("[2001:db8::2]:6881")},
	}}
	path := filepath.Join(t.TempDir(), "dht.dat")
	require.NoError(t, SaveState(path, s))
	got, err := LoadState(path)
	require.NoError(t, err)
	assert.Equal(t, s, got)
	_, err = UnmarshalState([]byte("d2:id3:abce"))
	require.ErrorIs(t, err, ErrMalformed)
	_, err = UnmarshalState([]byte("garbage"))
	require.ErrorIs(t, err, ErrMalformed)
	_, err = LoadState(filepath.Join(t.TempDir(), "missing"))
	require.Error(t, err)
}

func TestPeerStoreMillionHashes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	s := newPeerStore(StoreConfig{})
	for i := range 1_000_000 {
		s.add(ID{byte(i), byte(i >> 8), byte(i >> 16)}, netip.AddrPortFrom(netip.AddrFrom4([4]byte{11, byte(i >> 16), byte(i >> 8), byte(i)}), 1), t0, r)
	}
	assert.Equal(t, 10000, len(s.hashes), "default cap on info-hashes")
	assert.Equal(t, 10000, s.total)
}
