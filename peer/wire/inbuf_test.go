package wire

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chunkReader serves data in reads of at most the next size from sizes (cycled).
type chunkReader struct {
	data  []byte
	sizes []int
	i     int
	reads []int // what each read returned
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(c.data), c.sizes[c.i%len(c.sizes)])
	c.i++
	copy(p, c.data[:n])
	c.data = c.data[n:]
	c.reads = append(c.reads, n)
	return n, nil
}

// TestInbufStream: whatever the read sizes and however the buffer grows and shrinks, the
// bytes come out in order and whole, through every method the Reader uses.
func TestInbufStream(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 8<<20)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	for _, sizes := range [][]int{{1 << 30}, {7}, {MaxReadBufferSize, 100, 3 << 10}, {ReadBufferSize, ReadBufferSize / 3}} {
		src := &chunkReader{data: data, sizes: sizes}
		b := newInbuf(src)
		b.growAfter, b.shrinkAfter = 2, 3
		var got []byte
		for {
			var err error
			switch rng.IntN(4) {
			case 0:
				var c byte
				if c, err = b.ReadByte(); err == nil {
					got = append(got, c)
				}
			case 1:
				var p []byte
				p, err = b.Peek(1 + rng.IntN(4))
				if err == nil {
					got = append(got, p[0])
					_, err = b.Discard(1)
				}
			case 2:
				p := make([]byte, rng.IntN(3*BlockSize))
				var n int
				n, err = io.ReadFull(b, p)
				got = append(got, p[:n]...)
			case 3:
				k := rng.IntN(40 << 10)
				var n int
				n, err = b.Discard(k)
				got = append(got, data[len(got):len(got)+n]...) // skipped: trust the count, checked below
			}
			if err != nil {
				require.True(t, errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF), "sizes %v: %v", sizes, err)
				break
			}
		}
		require.Equal(t, len(data), len(got), "sizes %v", sizes)
		assert.True(t, bytes.Equal(data, got), "sizes %v", sizes)
	}
}

// TestInbufGrowsAndShrinks: the buffer grows once reads keep filling it and goes back to
// ReadBufferSize once reads stay small.
func TestInbufGrowsAndShrinks(t *testing.T) {
	data := make([]byte, 64<<20)
	src := &chunkReader{data: data, sizes: []int{1 << 30}}
	b := newInbuf(src)
	p := make([]byte, BlockSize)
	for range 8 * growAfter {
		_, err := io.ReadFull(b, p)
		require.NoError(t, err)
	}
	assert.Equal(t, MaxReadBufferSize, len(b.buf), "a sender that fills every read")
	assert.Equal(t, ReadBufferSize, src.reads[0])
	assert.Equal(t, MaxReadBufferSize, src.reads[len(src.reads)-1], "later reads fill the larger buffer")

	src.sizes = []int{1000}                               // the sender slows down
	for range MaxReadBufferSize/BlockSize + shrinkAfter { // what was buffered, then many small reads
		_, err := io.ReadFull(b, p)
		require.NoError(t, err)
	}
	assert.Equal(t, ReadBufferSize, len(b.buf), "a slow sender")

	slow := &chunkReader{data: data, sizes: []int{ReadBufferSize / 2}}
	b = newInbuf(slow)
	for range 200 {
		_, err := io.ReadFull(b, p)
		require.NoError(t, err)
	}
	assert.Equal(t, ReadBufferSize, len(b.buf), "reads that never fill the buffer do not grow it")
}

// badReader returns more than it was asked for.
type badReader struct{}

func (badReader) Read(p []byte) (int, error) { return len(p) + 1, nil }

func TestInbufBadCount(t *testing.T) {
	_, err := NewReader(badReader{}, Limits{NumPieces: 8}).ReadMessage()
	require.ErrorIs(t, err, errBadCount)
}
