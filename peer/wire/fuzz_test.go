package wire

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzReadMessage decodes a stream of messages, then checks that each one re-encodes to a
// form that decodes to the same message. Limits come from the input so the fuzzer explores
// the size checks.
func FuzzReadMessage(f *testing.F) {
	f.Add(smallStream(), uint16(13), uint16(BlockSize))
	f.Add(frame(3, byte(BitfieldID), 0xff, 0xfc), uint16(13), uint16(16))
	f.Add(frame(0xffffffff, byte(Piece)), uint16(0), uint16(0))
	f.Add(frame(10, byte(Piece), 0, 0, 0, 1, 0, 0, 0, 2, 3), uint16(1), uint16(1))
	f.Fuzz(func(t *testing.T, data []byte, numPieces, maxBlock uint16) {
		lim := Limits{NumPieces: int(numPieces), MaxBlock: uint32(maxBlock)}
		r := NewReader(bytes.NewReader(data), lim)
		var got []Message
		var end error
		for {
			m, err := r.ReadMessage()
			if err != nil {
				var pe *ProtocolError
				if !errors.As(err, &pe) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				end = err
				break
			}
			got = append(got, m)
			enc := AppendMessage(nil, m)
			again, err := NewReader(bytes.NewReader(enc), lim).ReadMessage()
			require.NoError(t, err)
			assert.Equal(t, m, again)
		}
		// The same bytes arriving a few at a time (as from a socket) decode the same way:
		// the buffer's refills, and its growth and shrinking, are invisible.
		chunk := 1 + int(numPieces%97)
		r = NewReader(&chunked{data: data, n: chunk}, lim)
		for i := 0; ; i++ {
			m, err := r.ReadMessage()
			if err != nil {
				require.Equal(t, len(got), i, "chunks of %d: stopped early: %v", chunk, err)
				var pe *ProtocolError
				require.Equal(t, errors.As(end, &pe), errors.As(err, &pe), "chunks of %d: %v, whole: %v", chunk, err, end)
				return
			}
			require.Less(t, i, len(got), "chunks of %d: more messages than whole", chunk)
			require.Equal(t, got[i], m, "chunks of %d", chunk)
		}
	})
}

// chunked serves data at most n bytes per Read.
type chunked struct {
	data []byte
	n    int
}

func (c *chunked) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	k := copy(p, c.data[:min(len(c.data), c.n)])
	c.data = c.data[k:]
	return k, nil
}

// FuzzReadHandshake checks that any input either fails cleanly or decodes to a handshake
// that re-encodes to the same 68 bytes.
func FuzzReadHandshake(f *testing.F) {
	f.Add(AppendHandshake(nil, testHandshake()))
	f.Add([]byte("\x13BitTorrent protocoX"))
	f.Add([]byte("GET / HTTP/1.0\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ReadHandshake(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrBadProtocol) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		assert.Equal(t, data[:HandshakeLen], AppendHandshake(nil, h))
	})
}

// smallStream is every message once, with a small block: big seeds slow the fuzzer down.
func smallStream() []byte {
	var b []byte
	for _, m := range allMessages() {
		if m.ID == Piece {
			m.Block = m.Block[:min(len(m.Block), 5)]
		}
		b = AppendMessage(b, m)
	}
	return b
}

// FuzzExtHandshake: any payload parses or fails with ErrExtension, and a parsed handshake
// re-encodes to one that parses the same.
func FuzzExtHandshake(f *testing.F) {
	f.Add([]byte("d1:md11:ut_metadatai2e6:ut_pexi1ee13:metadata_sizei1000e1:pi6881e4:reqqi500e1:v4:test6:yourip4:\x7f\x00\x00\x01e"))
	f.Add([]byte("d1:md6:ut_pex3:abcee"))
	f.Add([]byte("de"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseExtHandshake(b)
		if err != nil {
			require.ErrorIs(t, err, ErrExtension)
			return
		}
		back, err := ParseExtHandshake(h.Marshal())
		require.NoError(t, err)
		assert.Equal(t, h, back)
	})
}

// FuzzMetadataMsg: any payload parses or fails with ErrExtension, and a parsed message
// re-encodes to one that parses the same.
func FuzzMetadataMsg(f *testing.F) {
	f.Add([]byte("d8:msg_typei0e5:piecei0ee"))
	f.Add([]byte("d8:msg_typei1e5:piecei0e10:total_sizei5eehello"))
	f.Add([]byte("d8:msg_typei2e5:piecei9ee"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMetadataMsg(b)
		if err != nil {
			require.ErrorIs(t, err, ErrExtension)
			return
		}
		back, err := ParseMetadataMsg(m.Marshal())
		require.NoError(t, err)
		assert.Equal(t, m, back)
	})
}

// FuzzPEX: any payload parses or fails with ErrExtension within the peer cap, and a parsed
// message re-encodes to one that parses the same.
func FuzzPEX(f *testing.F) {
	f.Add([]byte("d5:added6:\x7f\x00\x00\x02\x1a\xe17:added.f1:\x02e"))
	f.Add([]byte("d6:added618:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x1a\xe18:added6.f1:\x017:dropped6:\x0a\x00\x00\x01\x00\x50e"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePEX(b)
		if err != nil {
			require.ErrorIs(t, err, ErrExtension)
			return
		}
		require.LessOrEqual(t, len(p.Added)+len(p.Dropped), MaxPEXPeers)
		back, err := ParsePEX(p.Marshal())
		require.NoError(t, err)
		assert.ElementsMatch(t, p.Added, back.Added)
		assert.ElementsMatch(t, p.Dropped, back.Dropped)
	})
}
