package dht

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var id20 = strings.Repeat("a", 20)

func TestDecodeBEP5Examples(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Msg
	}{
		{"ping query", "d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe",
			Msg{T: "aa", Y: "q", Q: "ping", A: &Args{ID: "abcdefghij0123456789"}}},
		{"ping response", "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re",
			Msg{T: "aa", Y: "r", R: &Return{ID: "mnopqrstuvwxyz123456"}}},
		{"error", "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
			Msg{T: "aa", Y: "e", E: &Error{Code: 201, Msg: "A Generic Error Ocurred"}}},
		{"find_node", "d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe",
			Msg{T: "aa", Y: "q", Q: "find_node", A: &Args{ID: "abcdefghij0123456789", Target: "mnopqrstuvwxyz123456"}}},
		{"get_peers values", "d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee1:t2:aa1:y1:re",
			Msg{T: "aa", Y: "r", R: &Return{ID: "abcdefghij0123456789", Token: "aoeusnth", Values: []string{"axje.u", "idhtnm"}}}},
		{"announce_peer implied", "d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe",
			Msg{T: "aa", Y: "q", Q: "announce_peer", A: &Args{ID: "abcdefghij0123456789", ImpliedPort: 1, InfoHash: "mnopqrstuvwxyz123456", Port: ptr(6881), Token: "aoeusnth"}}},
		{"read-only and version", "d1:ad2:id20:abcdefghij0123456789e1:q4:ping2:roi1e1:t2:aa1:v4:LT011:y1:qe",
			Msg{T: "aa", Y: "q", Q: "ping", A: &Args{ID: "abcdefghij0123456789"}, RO: 1, V: "LT01"}},
		{"unknown keys ignored", "d1:ad2:id20:abcdefghij01234567895:extrai1ee1:q4:ping1:t2:aa1:y1:q1:zli1eee",
			Msg{T: "aa", Y: "q", Q: "ping", A: &Args{ID: "abcdefghij0123456789"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Decode([]byte(tc.in))
			require.NoError(t, err)
			assert.Equal(t, tc.want, *m)
			b, err := Encode(m)
			require.NoError(t, err)
			again, err := Decode(b)
			require.NoError(t, err)
			assert.Equal(t, m, again)
		})
	}
}

func ptr(i int) *int { return &i }

func TestDecodeRejects(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"not a dict", "li1ee"},
		{"truncated", "d1:ad2:id20:abcdefghij0123"},
		{"trailing", "d1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:rexx"},
		{"no tid", "d1:rd2:id20:mnopqrstuvwxyz123456e1:y1:re"},
		{"long tid", "d1:rd2:id20:mnopqrstuvwxyz123456e1:t17:aaaaaaaaaaaaaaaaa1:y1:re"},
		{"bad type", "d1:t2:aa1:y1:xe"},
		{"query without args", "d1:q4:ping1:t2:aa1:y1:qe"},
		{"short id", "d1:ad2:id3:abce1:q4:ping1:t2:aa1:y1:qe"},
		{"response short id", "d1:rd2:id2:abe1:t2:aa1:y1:re"},
		{"error without e", "d1:t2:aa1:y1:ee"},
		{"error code not int", "d1:el3:abc3:xyze1:t2:aa1:y1:ee"},
		{"id is a list", "d1:ad2:idli1eee1:q4:ping1:t2:aa1:y1:qe"},
		{"port is a string", "d1:ad2:id20:abcdefghij01234567894:port2:80e1:q4:ping1:t2:aa1:y1:qe"},
		{"deep nesting", "d1:z" + strings.Repeat("l", 100) + strings.Repeat("e", 100) + "1:t2:aa1:y1:re"},
		{"huge string length", "d1:t99999999:aa1:y1:re"},
		{"oversized", "d1:t2:aa1:y1:r1:x" + "3000:" + strings.Repeat("x", 3000) + "e"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.in))
			require.ErrorIs(t, err, ErrMalformed)
		})
	}
}

func TestCompactNodesRoundTrip(t *testing.T) {
	ns := []NodeInfo{
		{ID: ID([]byte(id20)), Addr: netip.MustParseAddrPort("1.2.3.4:6881")},
		{ID: ID([]byte(strings.Repeat("b", 20))), Addr: netip.MustParseAddrPort("[2001:db8::1]:80")},
	}
	v4, v6 := encodeNodes(ns)
	assert.Len(t, v4, 26)
	assert.Len(t, v6, 38)
	got4, err := parseNodes(v4, 4)
	require.NoError(t, err)
	got6, err := parseNodes(v6, 16)
	require.NoError(t, err)
	assert.Equal(t, ns, append(got4, got6...))
	_, err = parseNodes(v4[:25], 4)
	require.ErrorIs(t, err, ErrMalformed)
	_, err = parseAddr("12345")
	require.ErrorIs(t, err, ErrMalformed)
}
