package wire

import (
	"bytes"
	"testing"
)

// repeatReader serves the same bytes forever, without allocating.
type repeatReader struct {
	data []byte
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := copy(p, r.data[r.off:])
	r.off = (r.off + n) % len(r.data)
	return n, nil
}

func BenchmarkReadPiece(b *testing.B) {
	msg := AppendMessage(nil, Message{ID: Piece, Index: 1, Begin: 0, Block: bytes.Repeat([]byte{1}, BlockSize)})
	r := NewReader(&repeatReader{data: msg}, Limits{NumPieces: 4096})
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.ReadMessage(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadHave(b *testing.B) {
	msg := AppendMessage(nil, Message{ID: Have, Index: 77})
	r := NewReader(&repeatReader{data: msg}, Limits{NumPieces: 4096})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.ReadMessage(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendPiece(b *testing.B) {
	m := Message{ID: Piece, Index: 1, Begin: 0, Block: bytes.Repeat([]byte{1}, BlockSize)}
	buf := make([]byte, 0, BlockSize+13)
	b.SetBytes(BlockSize + 13)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendMessage(buf[:0], m)
	}
}

func BenchmarkReadPiecePooled(b *testing.B) {
	msg := AppendMessage(nil, Message{ID: Piece, Index: 1, Begin: 0, Block: bytes.Repeat([]byte{1}, BlockSize)})
	r := NewReader(&repeatReader{data: msg}, Limits{NumPieces: 4096})
	buf := make([]byte, BlockSize) // a one-buffer "pool": each block is done with at once
	r.SetBlockAlloc(func(int) []byte { return buf })
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.ReadMessage(); err != nil {
			b.Fatal(err)
		}
	}
}
