package bitfield

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSetHasCount(t *testing.T) {
	bf := New(10)
	assert.Equal(t, 2, len(bf.Bytes()))
	bf.Set(0)
	bf.Set(9)
	assert.True(t, bf.Has(0))
	assert.True(t, bf.Has(9))
	assert.False(t, bf.Has(5))
	assert.False(t, bf.Has(10))
	assert.False(t, bf.Has(-1))
	assert.Equal(t, []byte{0x80, 0x40}, bf.Bytes())
	assert.Equal(t, 2, bf.Count())
	bf.Clear(0)
	assert.Equal(t, 1, bf.Count())
	assert.False(t, bf.Full())
	assert.Panics(t, func() { bf.Set(10) })
}

func TestFromBytes(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		n       int
		wantErr string
	}{
		{"exact", []byte{0xff, 0xc0}, 10, ""},
		{"spare bit", []byte{0xff, 0xe0}, 10, "spare bits"},
		{"short", []byte{0xff}, 10, "want 2"},
		{"long", []byte{0xff, 0, 0}, 10, "want 2"},
		{"multiple of 8", []byte{0xff}, 8, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bf, err := FromBytes(tc.in, tc.n)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.in, bf.Bytes())
			tc.in[0] = 0 // FromBytes copies
			assert.NotEqual(t, tc.in, bf.Bytes()[:len(tc.in)], "must copy")
		})
	}
}

func TestFull(t *testing.T) {
	bf := New(3)
	for i := range 3 {
		bf.Set(i)
	}
	assert.True(t, bf.Full())
	c := bf.Clone()
	c.Clear(1)
	assert.True(t, bf.Full(), "clone is independent")
}
