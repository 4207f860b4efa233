package wire

import (
	"bytes"
	"io"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testHandshake() Handshake {
	h := Handshake{Reserved: Reserved{}.Set(ExtensionByte, ExtensionBit).Set(FastByte, FastBit)}
	copy(h.InfoHash[:], "0123456789abcdefghij")
	copy(h.PeerID[:], "-SW0100-xxxxxxxxxxxx")
	return h
}

func TestHandshakeRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, WriteHandshake(&buf, testHandshake()))
	require.Equal(t, HandshakeLen, buf.Len())
	assert.Equal(t, "\x13BitTorrent protocol", buf.String()[:20])
	buf.WriteString("rest") // ReadHandshake must not read past the handshake
	h, err := ReadHandshake(iotest.OneByteReader(&buf))
	require.NoError(t, err)
	assert.Equal(t, testHandshake(), h)
	assert.True(t, h.Reserved.Has(FastByte, FastBit))
	assert.False(t, h.Reserved.Has(DHTByte, DHTBit))
	assert.False(t, h.Reserved.Has(8, 1))
	assert.Equal(t, "rest", buf.String())
}

func TestHandshakeBad(t *testing.T) {
	good := AppendHandshake(nil, testHandshake())
	mutate := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"http request", []byte("GET /announce HTTP/1.1\r\n\r\n"), ErrBadProtocol},
		{"pstrlen 18", mutate(func(b []byte) []byte { b[0] = 18; return b }), ErrBadProtocol},
		{"pstrlen 0", []byte{0}, ErrBadProtocol},
		{"wrong pstr", mutate(func(b []byte) []byte { b[1] = 'b'; return b }), ErrBadProtocol},
		{"empty", nil, io.EOF},
		{"truncated pstr", good[:10], io.ErrUnexpectedEOF},
		{"truncated peer id", good[:HandshakeLen-1], io.ErrUnexpectedEOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadHandshake(bytes.NewReader(tc.in))
			require.ErrorIs(t, err, tc.want)
			assert.ErrorContains(t, err, "read handshake")
		})
	}
}

func TestWriteHandshakeError(t *testing.T) {
	err := WriteHandshake(failWriter{}, testHandshake())
	require.ErrorIs(t, err, io.ErrClosedPipe)
	assert.ErrorContains(t, err, "write handshake")
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }
