package dht

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzDecode: any packet either fails with ErrMalformed or decodes to a message that
// re-encodes and decodes to the same thing, and the compact fields parse without panicking.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe",
		"d1:rd2:id20:abcdefghij01234567895:nodes26:abcdefghij0123456789\x01\x02\x03\x04\x1a\xe15:token8:aoeusnth6:valuesl6:axje.ueee1:t2:aa1:y1:re",
		"d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
		"d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformed)
			return
		}
		if m.R != nil {
			_, _ = parseNodes(m.R.Nodes, 4)
			_, _ = parseNodes(m.R.Nodes6, 16)
			for _, v := range m.R.Values {
				_, _ = parseAddr(v)
			}
		}
		enc, err := Encode(m)
		require.NoError(t, err)
		again, err := Decode(enc)
		require.NoError(t, err)
		require.Equal(t, m, again)
	})
}
