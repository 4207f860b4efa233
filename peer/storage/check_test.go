package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swarm-bt/swarm/peer/bitfield"
)

// bits lists the set pieces of bf.
func bits(bf bitfield.Bitfield) []int {
	var out []int
	for i := range bf.Len() {
		if bf.Has(i) {
			out = append(out, i)
		}
	}
	return out
}

func TestCheckPartialAndCorrupt(t *testing.T) {
	data := payload(7, 1000) // 16 pieces of 64 bytes, the last 40
	lengths := []int64{100, 0, 300, 600}
	paths := [][]string{{"a"}, {"empty"}, {"b", "c"}, {"d"}}
	info := multiInfo("chk", 64, data, paths, lengths)
	for _, workers := range []int{0, 1, 3, 50} {
		dir := t.TempDir()
		st, err := OpenFiles(info, dir)
		require.NoError(t, err)
		_, err = st.WriteAt(data[:640], 0) // pieces 0-9
		require.NoError(t, err)
		_, err = st.WriteAt(data[960:], 960) // the short last piece, 15
		require.NoError(t, err)
		_, err = st.WriteAt([]byte{data[200] ^ 1}, 200) // corrupt piece 3
		require.NoError(t, err)
		var calls []int
		good, err := Check(context.Background(), info, st, workers, func(n int) { calls = append(calls, n) })
		require.NoError(t, err)
		assert.Equal(t, []int{0, 1, 2, 4, 5, 6, 7, 8, 9, 15}, bits(good), "workers %d", workers)
		assert.Len(t, calls, 16)
		assert.Equal(t, 16, calls[len(calls)-1])
		ok, err := NewVerifier(info).Verify(st, 3)
		require.NoError(t, err)
		assert.False(t, ok)
		ok, err = NewVerifier(info).Verify(st, 15)
		require.NoError(t, err)
		assert.True(t, ok)
		require.NoError(t, st.Close())
	}
}

func TestCheckMemoryAndReopen(t *testing.T) {
	data := payload(8, 5000)
	info := singleInfo("s", 256, data)
	m := NewMemory(5000)
	writeAll(t, m, data, 1000)
	good, err := Check(context.Background(), info, m, 2, nil)
	require.NoError(t, err)
	assert.True(t, good.Full())

	dir := t.TempDir()
	st, err := OpenFiles(info, dir)
	require.NoError(t, err)
	writeAll(t, st, data, 4096)
	require.NoError(t, st.Close())
	st, err = OpenFiles(info, dir) // resume: everything is there
	require.NoError(t, err)
	defer st.Close()
	good, err = Check(context.Background(), info, st, 0, nil)
	require.NoError(t, err)
	assert.True(t, good.Full())
}

func TestCheckFastPath(t *testing.T) {
	data := payload(9, 1024)
	info := multiInfo("fp", 128, data, [][]string{{"a"}, {"b"}}, []int64{512, 512})
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "fp"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "fp", "a"), data[:512], 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "fp", "b"), data[512:700], 0o644)) // short
	st, err := OpenFiles(info, dir)
	require.NoError(t, err)
	defer st.Close()
	pr := st.(Presence)
	assert.True(t, pr.Present(0, 700))
	assert.False(t, pr.Present(640, 128))
	assert.True(t, pr.Present(512, 0))
	good, err := Check(context.Background(), info, st, 2, nil)
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1, 2, 3, 4}, bits(good))
}

func TestCheckCancelled(t *testing.T) {
	data := payload(10, 4096)
	info := singleInfo("c", 16, data)
	m := NewMemory(4096)
	writeAll(t, m, data, 4096)
	ctx, cancel := context.WithCancel(context.Background())
	good, err := Check(ctx, info, m, 2, func(n int) {
		if n == 10 {
			cancel()
		}
	})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 0, good.Len())
}

type failingStorage struct{ Storage }

var errBroken = errors.New("broken disk")

func (failingStorage) ReadAt(p []byte, off int64) (int, error) {
	if off >= 64*5 {
		return 0, errBroken
	}
	return len(p), nil
}

func TestCheckReadError(t *testing.T) {
	info := singleInfo("e", 64, make([]byte, 64*20))
	_, err := Check(context.Background(), info, failingStorage{NewMemory(0)}, 3, nil)
	require.ErrorIs(t, err, errBroken)
	assert.ErrorContains(t, err, "check: verify piece")
	_, err = NewVerifier(info).Verify(failingStorage{}, 19)
	require.ErrorIs(t, err, errBroken)
	_, err = NewVerifier(info).Verify(failingStorage{}, 20)
	require.ErrorIs(t, err, ErrOutOfRange)
}

func TestCheckEmptyTorrent(t *testing.T) {
	info := multiInfo("e", 64, nil, [][]string{{"a"}}, []int64{0})
	st, err := OpenFiles(info, t.TempDir())
	require.NoError(t, err)
	defer st.Close()
	good, err := Check(context.Background(), info, st, 0, nil)
	require.NoError(t, err)
	assert.Equal(t, 0, good.Len())
}

func TestVerifierChunks(t *testing.T) {
	const pieceLen = 2*maxChunk + maxChunk/2 // hashed in three chunks
	data := payload(14, 2*pieceLen+100)
	info := singleInfo("big", pieceLen, data)
	m := NewMemory(int64(len(data)))
	writeAll(t, m, data, 1<<20)
	v := NewVerifier(info)
	assert.Len(t, v.buf, maxChunk)
	for i := range 3 {
		ok, err := v.Verify(m, i)
		require.NoError(t, err)
		assert.True(t, ok, "piece %d", i)
	}
	_, err := m.WriteAt([]byte{data[pieceLen+maxChunk+5] ^ 0xff}, pieceLen+maxChunk+5)
	require.NoError(t, err)
	ok, err := v.Verify(m, 1)
	require.NoError(t, err)
	assert.False(t, ok)
	short := NewMemory(pieceLen + 10) // shorter than the torrent
	ok, err = v.Verify(short, 2)
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestVerifyData(t *testing.T) {
	data := payload(9, 1000) // 16 pieces of 64 bytes, the last 40
	info := multiInfo("vd", 64, data, [][]string{{"a"}}, []int64{1000})
	v := NewVerifier(info)
	flipped := append([]byte(nil), data[64:128]...)
	flipped[5] ^= 1
	for _, tc := range []struct {
		name  string
		piece int
		parts [][]byte
		want  bool
	}{
		{"whole piece in one part", 0, [][]byte{data[:64]}, true},
		{"in blocks", 1, [][]byte{data[64:80], data[80:128]}, true},
		{"short last piece", 15, [][]byte{data[960:]}, true},
		{"a flipped bit", 1, [][]byte{flipped}, false},
		{"another piece's data", 2, [][]byte{data[64:128]}, false},
		{"a block missing", 1, [][]byte{data[64:80]}, false},
		{"out of range", 16, [][]byte{data[:64]}, false},
		{"negative", -1, [][]byte{data[:64]}, false},
	} {
		assert.Equal(t, tc.want, v.VerifyData(tc.piece, tc.parts), tc.name)
	}
}
