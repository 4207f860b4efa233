package pex

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer/wire"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func peers(n int, flags byte) map[netip.AddrPort]byte {
	m := map[netip.AddrPort]byte{}
	for i := range n {
		m[netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 6881)] = flags
	}
	return m
}

func TestSenderOncePerMinute(t *testing.T) {
	var s Sender
	cur := map[netip.AddrPort]byte{ap("10.0.0.1:1"): wire.PEXSeed, ap("10.0.0.2:2"): 0, ap("10.0.0.9:9"): 0}
	msg, ok := s.Next(t0, cur, ap("10.0.0.9:9"))
	require.True(t, ok, "the first message goes at once")
	assert.Equal(t, []wire.PEXPeer{{Addr: ap("10.0.0.1:1"), Flags: wire.PEXSeed}, {Addr: ap("10.0.0.2:2"), Flags: 0}}, msg.Added, "never the recipient")

	delete(cur, ap("10.0.0.1:1"))
	cur[ap("[::1]:3")] = wire.PEXReachable
	_, ok = s.Next(t0.Add(59*time.Second), cur, ap("10.0.0.9:9"))
	assert.False(t, ok, "not within a minute")
	msg, ok = s.Next(t0.Add(time.Minute), cur, ap("10.0.0.9:9"))
	require.True(t, ok)
	assert.Equal(t, []wire.PEXPeer{{Addr: ap("[::1]:3"), Flags: wire.PEXReachable}}, msg.Added)
	assert.Equal(t, []netip.AddrPort{ap("10.0.0.1:1")}, msg.Dropped)

	_, ok = s.Next(t0.Add(3*time.Minute), cur, ap("10.0.0.9:9"))
	assert.False(t, ok, "nothing changed")

	cur[ap("10.0.0.2:2")] = wire.PEXSeed
	msg, ok = s.Next(t0.Add(4*time.Minute), cur, ap("10.0.0.9:9"))
	require.True(t, ok, "a flag change is sent again")
	assert.Equal(t, []wire.PEXPeer{{Addr: ap("10.0.0.2:2"), Flags: wire.PEXSeed}}, msg.Added)
}

func TestSenderCaps(t *testing.T) {
	var s Sender
	cur := peers(120, 0)
	total := 0
	now := t0
	for i := range 3 {
		msg, ok := s.Next(now, cur, netip.AddrPort{})
		require.True(t, ok, "message %d", i)
		assert.LessOrEqual(t, len(msg.Added), MaxAdded)
		total += len(msg.Added)
		now = now.Add(Interval)
	}
	assert.Equal(t, 120, total)
	msg, ok := s.Next(now, map[netip.AddrPort]byte{}, netip.AddrPort{})
	require.True(t, ok)
	assert.Len(t, msg.Dropped, MaxDropped)
	assert.Empty(t, msg.Added)
	// on the wire, added.f matches added
	back, err := wire.ParsePEX(wire.PEX{Added: []wire.PEXPeer{{Addr: ap("10.0.0.1:1"), Flags: 2}}}.Marshal())
	require.NoError(t, err)
	assert.Equal(t, byte(2), back.Added[0].Flags)
}

func TestReceiver(t *testing.T) {
	self := ap("127.0.0.1:6881")
	isSelf := func(a netip.AddrPort) bool { return a == self }
	tests := []struct {
		name string
		msg  wire.PEX
		want []wire.PEXPeer
		err  string
	}{
		{"filters self and port 0", wire.PEX{Added: []wire.PEXPeer{{Addr: self, Flags: 0}, {Addr: ap("127.0.0.2:0"), Flags: 0}, {Addr: ap("[::ffff:127.0.0.3]:5"), Flags: 2}}},
			[]wire.PEXPeer{{Addr: ap("127.0.0.3:5"), Flags: 2}}, ""},
		{"oversized", wire.PEX{Added: pexPeers(MaxAddedIn + 1)}, nil, "201 added peers in one message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Receiver
			got, err := r.Receive(t0, tt.msg, isSelf)
			if tt.err != "" {
				require.ErrorIs(t, err, ErrFlood)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func pexPeers(n int) []wire.PEXPeer {
	var out []wire.PEXPeer
	for i := range n {
		out = append(out, wire.PEXPeer{Addr: netip.MustParseAddrPort(fmt.Sprintf("10.1.%d.%d:1", i/250, i%250+1))})
	}
	return out
}

func TestReceiverFrequency(t *testing.T) {
	var r Receiver
	for i := range MaxInPerInterval {
		_, err := r.Receive(t0.Add(time.Duration(i)*time.Second), wire.PEX{}, nil)
		require.NoError(t, err)
	}
	_, err := r.Receive(t0.Add(10*time.Second), wire.PEX{}, nil)
	require.ErrorIs(t, err, ErrFlood)

	var slow Receiver
	for i := range 20 {
		_, err := slow.Receive(t0.Add(time.Duration(i)*Interval), wire.PEX{}, nil)
		require.NoError(t, err, "once a minute is fine for ever")
	}
}

func TestReceiverPerConnectionCap(t *testing.T) {
	var r Receiver
	total := 0
	for i := range 5 {
		got, err := r.Receive(t0.Add(time.Duration(i)*Interval), wire.PEX{Added: pexPeers(MaxAddedIn)}, nil)
		require.NoError(t, err)
		total += len(got)
	}
	assert.Equal(t, MaxPerConn, total)
}
