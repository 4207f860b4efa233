// Package bitfield is the set of pieces a peer has, in the BEP 3 wire layout: the high bit of
// the first byte is piece 0, and spare bits at the end are zero.
package bitfield

import (
	"errors"
	"fmt"
	"math/bits"
)

// ErrSpareBits is returned for a wire bitfield whose padding bits are set (BEP 3 says peers
// must drop the connection).
var ErrSpareBits = errors.New("bitfield: spare bits set")

// Bitfield is a fixed-size set of piece indexes. It is not safe for concurrent use.
type Bitfield struct {
	b []byte
	n int
}

// New returns an empty bitfield of n pieces.
func New(n int) Bitfield { return Bitfield{b: make([]byte, ByteLen(n)), n: n} }

// ByteLen is the wire size of a bitfield of n pieces.
func ByteLen(n int) int { return (n + 7) / 8 }

// FromBytes copies a wire bitfield of n pieces, checking its size and spare bits.
func FromBytes(p []byte, n int) (Bitfield, error) {
	if len(p) != ByteLen(n) {
		return Bitfield{}, fmt.Errorf("bitfield: %d bytes for %d pieces, want %d", len(p), n, ByteLen(n))
	}
	if r := n % 8; r != 0 && p[len(p)-1]&(0xff>>r) != 0 {
		return Bitfield{}, ErrSpareBits
	}
	return Bitfield{b: append([]byte(nil), p...), n: n}, nil
}

// Len is the number of pieces the bitfield covers.
func (bf Bitfield) Len() int { return bf.n }

// Has reports whether piece i is set; out-of-range indexes are never set.
func (bf Bitfield) Has(i int) bool {
	if i < 0 || i >= bf.n {
		return false
	}
	return bf.b[i/8]&(0x80>>(i%8)) != 0
}

// Set marks piece i; it panics on an index out of range, an internal invariant.
func (bf Bitfield) Set(i int) {
	bf.check(i)
	bf.b[i/8] |= 0x80 >> (i % 8)
}

// Clear unmarks piece i.
func (bf Bitfield) Clear(i int) {
	bf.check(i)
	bf.b[i/8] &^= 0x80 >> (i % 8)
}

func (bf Bitfield) check(i int) {
	if i < 0 || i >= bf.n {
		panic(fmt.Sprintf("bitfield: index %d out of range [0,%d)", i, bf.n))
	}
}

// Count is the number of pieces set.
func (bf Bitfield) Count() int {
	c := 0
	for _, x := range bf.b {
		c += bits.OnesCount8(x)
	}
	return c
}

// Full reports whether every piece is set.
func (bf Bitfield) Full() bool { return bf.Count() == bf.n }

// Bytes returns the wire form. The slice is shared: copy it before the bitfield changes if it
// must outlive the change.
func (bf Bitfield) Bytes() []byte { return bf.b }

// Clone returns an independent copy.
func (bf Bitfield) Clone() Bitfield { return Bitfield{b: append([]byte(nil), bf.b...), n: bf.n} }
