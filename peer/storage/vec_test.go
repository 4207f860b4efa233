package storage

import (
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/metainfo"
)

// TestReadVecMatchesReadAt: ReadVec into random buffers over random ranges gives what one
// ReadAt of their concatenation gives (bytes, count, io.EOF), across file boundaries,
// 0-byte files, a file never written (zeros) and a file shorter than its length (zeros past
// its end), for the files storage (preadv on Linux) and the memory one (ReadAt fallback).
func TestReadVecMatchesReadAt(t *testing.T) {
	info, data, _, _ := vecLayout("v", 7)
	total := int64(len(data))
	dir := t.TempDir()
	st, err := OpenFiles(info, dir)
	require.NoError(t, err)
	defer st.Close()
	_, err = st.WriteAt(data[:1000], 0) // fh (the last file, 300 bytes) stays unwritten
	require.NoError(t, err)
	require.NoError(t, os.Truncate(filepath.Join(dir, "v", "fg"), 200)) // fg shorter than 600
	require.NoError(t, st.(Refresher).Refresh())
	mem := NewMemory(total)
	_, err = mem.WriteAt(data, 0)
	require.NoError(t, err)

	rng := rand.New(rand.NewPCG(3, 4))
	for _, s := range []Storage{st, mem} {
		for range 500 {
			off := rng.Int64N(total + 20)
			var bufs [][]byte
			want := 0
			for range 1 + rng.IntN(5) {
				b := make([]byte, rng.IntN(300))
				for i := range b {
					b[i] = 0xee // must be overwritten
				}
				bufs = append(bufs, b)
				want += len(b)
			}
			lens := make([]int, len(bufs))
			for i, b := range bufs {
				lens[i] = len(b)
			}
			flat := make([]byte, want)
			wn, werr := s.ReadAt(flat, off)
			n, err := ReadVec(s, bufs, off)
			require.Equal(t, wn, n, "bytes read at %d", off)
			require.Equal(t, werr == io.EOF, err == io.EOF, "EOF at %d: %v vs %v", off, werr, err)
			if err != io.EOF {
				require.NoError(t, err)
			}
			got := make([]byte, 0, want)
			for i, b := range bufs {
				assert.Len(t, b, lens[i], "the caller's buffers keep their lengths")
				got = append(got, b...)
			}
			require.Equal(t, flat[:wn], got[:n], "bytes at %d", off)
		}
	}
}

func TestReadVecNegativeOffset(t *testing.T) {
	data := payload(1, 100)
	st, err := OpenFiles(singleInfo("n.bin", 64, data), t.TempDir())
	require.NoError(t, err)
	defer st.Close()
	_, err = ReadVec(st, [][]byte{make([]byte, 10)}, -1)
	assert.ErrorIs(t, err, ErrOutOfRange)
}

// TestWriteVecMatchesWriteAt: WriteVec of random buffers at random offsets leaves the files
// as WriteAt of their concatenation would, across file boundaries and 0-byte files, making
// the files it reaches; a range past the payload is refused whole. Likewise for the memory
// storage and for a storage without WriteVecAt.
func TestWriteVecMatchesWriteAt(t *testing.T) {
	info, data, paths, lengths := vecLayout("w", 8)
	total := int64(len(data))
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 6))
	var wantFiles []byte
	for k, s := range []func() Storage{
		func() Storage { st, err := OpenFiles(info, dir); require.NoError(t, err); return st },
		func() Storage { return NewMemory(total) },
		func() Storage { return struct{ Storage }{NewMemory(total)} }, // WriteVec's fallback
	} {
		st := s()
		want := make([]byte, total)
		if k == 0 {
			wantFiles = want
		}
		for range 300 {
			var bufs [][]byte
			n := 0
			for range 1 + rng.IntN(5) {
				b := payload(rng.Uint64(), int64(rng.IntN(200)))
				bufs = append(bufs, b)
				n += len(b)
			}
			off := rng.Int64N(total - int64(n) + 1)
			got, err := WriteVec(st, bufs, off)
			require.NoError(t, err)
			require.Equal(t, n, got)
			for _, b := range bufs {
				off += int64(copy(want[off:], b))
			}
		}
		assert.Equal(t, want, readAll(t, st, total))
		_, err := WriteVec(st, [][]byte{make([]byte, 10), make([]byte, 10)}, total-15)
		assert.ErrorIs(t, err, ErrOutOfRange)
		assert.Equal(t, want, readAll(t, st, total), "a refused write changes nothing")
		require.NoError(t, st.Close())
	}
	var off int64
	for i, p := range paths { // files grow as written: each is a prefix of its share
		got := fileBytes(t, dir, "w", p[0])
		assert.LessOrEqual(t, int64(len(got)), lengths[i], "file %v", p)
		assert.Equal(t, wantFiles[off:off+int64(len(got))], got, "file %v", p)
		off += lengths[i]
	}
}

// vecLayout is the vector tests' torrent: files fa to fh with 0-byte files among others, 128-
// byte pieces, over payload(seed).
func vecLayout(name string, seed uint64) (info *metainfo.Info, data []byte, paths [][]string, lengths []int64) {
	lengths = []int64{100, 0, 37, 250, 13, 0, 600, 300}
	var total int64
	for i, l := range lengths {
		paths = append(paths, []string{"f" + string(rune('a'+i))})
		total += l
	}
	data = payload(seed, total)
	return multiInfo(name, 128, data, paths, lengths), data, paths, lengths
}
