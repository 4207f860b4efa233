package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testLimits = Limits{NumPieces: 13, MaxBlock: BlockSize}

func allMessages() []Message {
	return []Message{
		{KeepAlive: true},
		{ID: Choke}, {ID: Unchoke}, {ID: Interested}, {ID: NotInterested},
		{ID: Have, Index: 0xdeadbeef},
		{ID: BitfieldID, Bitfield: []byte{0xa5, 0xf8}},
		{ID: Request, Index: 1, Begin: 2 * BlockSize, Length: BlockSize},
		{ID: Cancel, Index: 7, Begin: 16, Length: 3},
		{ID: Piece, Index: 3, Begin: BlockSize, Block: bytes.Repeat([]byte{0x5a}, BlockSize)},
		{ID: Piece, Index: 4, Begin: 0, Block: []byte{}},
		{ID: Port, Port: 6881},
		{ID: Extended, ExtID: 3, Payload: []byte("d1:ai1ee")}, {ID: Extended, Payload: []byte{}}, {ID: 200},
		{ID: Suggest, Index: 5}, {ID: HaveAll}, {ID: HaveNone}, {ID: AllowedFast, Index: 12},
		{ID: RejectRequest, Index: 2, Begin: BlockSize, Length: BlockSize},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, m := range allMessages() {
		t.Run(m.ID.String(), func(t *testing.T) {
			r := NewReader(bytes.NewReader(AppendMessage(nil, m)), testLimits)
			got, err := r.ReadMessage()
			require.NoError(t, err)
			assert.Equal(t, m, got)
			_, err = r.ReadMessage()
			assert.ErrorIs(t, err, io.EOF)
		})
	}
}

func TestWireForm(t *testing.T) {
	tests := []struct {
		name string
		m    Message
		want []byte
	}{
		{"keep-alive", Message{KeepAlive: true}, []byte{0, 0, 0, 0}},
		{"interested", Message{ID: Interested}, []byte{0, 0, 0, 1, 2}},
		{"have", Message{ID: Have, Index: 258}, []byte{0, 0, 0, 5, 4, 0, 0, 1, 2}},
		{"request", Message{ID: Request, Index: 1, Begin: 2, Length: 3},
			[]byte{0, 0, 0, 13, 6, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3}},
		{"piece", Message{ID: Piece, Index: 1, Begin: 2, Block: []byte{9}},
			[]byte{0, 0, 0, 10, 7, 0, 0, 0, 1, 0, 0, 0, 2, 9}},
		{"port", Message{ID: Port, Port: 0x1ae1}, []byte{0, 0, 0, 3, 9, 0x1a, 0xe1}},
		{"bitfield", Message{ID: BitfieldID, Bitfield: []byte{0x80}}, []byte{0, 0, 0, 2, 5, 0x80}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, AppendMessage([]byte{}, tc.m))
		})
	}
}

// frame builds a raw message: length prefix n, then body.
func frame(n uint32, body ...byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, n), body...)
}

func TestViolations(t *testing.T) {
	tests := []struct {
		name   string
		in     []byte
		reason string
	}{
		{"4 GiB length", frame(0xffffffff, byte(Piece)), "exceeds the limit"},
		{"just over the cap", frame(9+BlockSize+1, byte(Piece)), "exceeds the limit"},
		{"unknown id over the cap", frame(9+BlockSize+1, 99), "exceeds the limit"},
		{"oversized piece", frame(9+BlockSize+1, byte(Piece)), "exceeds"},
		{"short piece", frame(8, byte(Piece), 0, 0, 0, 0, 0, 0, 0), "want 9 to"},
		{"bitfield too short", frame(2, byte(BitfieldID), 0xff), "want 2"},
		{"bitfield too long", frame(4, byte(BitfieldID), 0xff, 0xf8, 0), "want 2"},
		{"spare bits", frame(3, byte(BitfieldID), 0xff, 0xfc), "spare bits"},
		{"last spare bit", frame(3, byte(BitfieldID), 0x00, 0x04), "spare bits"},
		{"choke with payload", frame(2, byte(Choke), 0), "want 1"},
		{"unchoke with payload", frame(5, byte(Unchoke), 0, 0, 0, 0), "want 1"},
		{"interested with payload", frame(2, byte(Interested), 0), "want 1"},
		{"not interested with payload", frame(2, byte(NotInterested), 0), "want 1"},
		{"short have", frame(4, byte(Have), 0, 0, 0), "want 5"},
		{"long have", frame(6, byte(Have), 0, 0, 0, 0, 0), "want 5"},
		{"short request", frame(12, byte(Request)), "want 13"},
		{"long cancel", frame(14, byte(Cancel)), "want 13"},
		{"long port", frame(4, byte(Port), 0, 0, 0), "want 3"},
		{"short port", frame(2, byte(Port), 0), "want 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReader(bytes.NewReader(tc.in), testLimits).ReadMessage()
			var pe *ProtocolError
			require.ErrorAs(t, err, &pe)
			assert.Contains(t, pe.Reason, tc.reason)
		})
	}
}

func TestLimits(t *testing.T) {
	tests := []struct {
		name string
		lim  Limits
		want uint32
	}{
		{"defaults", Limits{}, 9 + BlockSize},
		{"small block", Limits{MaxBlock: 1}, 13},
		{"big bitfield", Limits{NumPieces: 8 * 40000}, 40001},
		{"bitfield rounds up", Limits{NumPieces: 8*40000 + 1}, 40002},
		{"negative pieces", Limits{NumPieces: -5, MaxBlock: 2}, 13},
		{"huge block", Limits{MaxBlock: 0xffffffff}, 0xffffffff},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, NewReader(nil, tc.lim).MaxLength())
		})
	}
}

func TestZeroPieces(t *testing.T) {
	r := NewReader(bytes.NewReader(frame(1, byte(BitfieldID))), Limits{})
	m, err := r.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, Message{ID: BitfieldID, Bitfield: []byte{}}, m)
}

func TestUnknownDiscarded(t *testing.T) {
	in := append(frame(4, 21, 'a', 'b', 'c'), AppendMessage(nil, Message{ID: Have, Index: 9})...)
	r := NewReader(bytes.NewReader(in), testLimits)
	m, err := r.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, Message{ID: 21}, m)
	m, err = r.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, Message{ID: Have, Index: 9}, m)
}

func stream() []byte {
	var b []byte
	for _, m := range allMessages() {
		b = AppendMessage(b, m)
	}
	return b
}

func TestPartialReads(t *testing.T) {
	tests := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"one byte", iotest.OneByteReader},
		{"half", iotest.HalfReader},
		{"data with EOF", iotest.DataErrReader},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(tc.wrap(bytes.NewReader(stream())), testLimits)
			for _, want := range allMessages() {
				got, err := r.ReadMessage()
				require.NoError(t, err)
				assert.Equal(t, want, got)
			}
			_, err := r.ReadMessage()
			assert.ErrorIs(t, err, io.EOF)
		})
	}
}

func TestTruncated(t *testing.T) {
	full := AppendMessage(nil, Message{ID: Piece, Index: 1, Block: []byte("hello")})
	for n := 1; n < len(full); n++ {
		_, err := NewReader(bytes.NewReader(full[:n]), testLimits).ReadMessage()
		require.ErrorIs(t, err, io.ErrUnexpectedEOF, "cut at %d", n)
		assert.ErrorContains(t, err, "read message")
	}
}

func TestIOErrorWrapped(t *testing.T) {
	boom := errors.New("boom")
	_, err := NewReader(iotest.ErrReader(boom), testLimits).ReadMessage()
	require.ErrorIs(t, err, boom)
	assert.EqualError(t, err, "read message: boom")
	var pe *ProtocolError
	assert.False(t, errors.As(err, &pe))
}

func TestBlockOwnedByCaller(t *testing.T) {
	in := stream()
	in = append(in, in...)
	r := NewReader(bytes.NewReader(in), testLimits)
	var blocks [][]byte
	for {
		m, err := r.ReadMessage()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		if m.ID == Piece && len(m.Block) > 0 {
			blocks = append(blocks, m.Block)
		}
	}
	require.Len(t, blocks, 2)
	assert.Equal(t, bytes.Repeat([]byte{0x5a}, BlockSize), blocks[0], "later reads must not overwrite")
}

func TestSetBlockAlloc(t *testing.T) {
	var asked []int
	pool := make([]byte, BlockSize)
	r := NewReader(bytes.NewReader(stream()), testLimits)
	r.SetBlockAlloc(func(n int) []byte { asked = append(asked, n); return pool })
	for _, want := range allMessages() {
		got, err := r.ReadMessage()
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	assert.Equal(t, []int{BlockSize, 0}, asked)
}

// TestHugeLengthAllocatesNothing checks that a claimed 4 GiB message is refused from its
// length prefix alone, without allocating anything sized by it. MemStats counts every
// goroutine's allocations (the test runner's, the race detector's), so the reads run on one
// P and the figure is the average of many reads: a message-sized buffer would show as
// gigabytes a read, the background as a few bytes.
func TestHugeLengthAllocatesNothing(t *testing.T) {
	const runs = 200
	in := frame(0xffffffff, byte(Piece))
	readers := make([]*Reader, runs)
	for i := range readers {
		readers[i] = NewReader(bytes.NewReader(in), testLimits)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var before, after runtime.MemStats
	errs := make([]error, runs)
	runtime.ReadMemStats(&before)
	for i, r := range readers {
		_, errs[i] = r.ReadMessage()
	}
	runtime.ReadMemStats(&after)
	for _, err := range errs {
		var pe *ProtocolError
		require.ErrorAs(t, err, &pe)
	}
	assert.Less(t, (after.TotalAlloc-before.TotalAlloc)/runs, uint64(4096))
}
