package storage

import (
	"crypto/sha1"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/swarm-bt/swarm/metainfo"
)

// payload returns n pseudo-random bytes from seed.
func payload(seed uint64, n int64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// hashes returns the piece hashes of data.
func hashes(data []byte, pieceLen int64) []byte {
	var out []byte
	for off := int64(0); off < int64(len(data)); off += pieceLen {
		sum := sha1.Sum(data[off:min(off+pieceLen, int64(len(data)))])
		out = append(out, sum[:]...)
	}
	return out
}

// multiInfo builds a multi-file torrent over data split into files of the given lengths.
func multiInfo(name string, pieceLen int64, data []byte, paths [][]string, lengths []int64) *metainfo.Info {
	info := &metainfo.Info{Name: name, PieceLength: pieceLen, Pieces: hashes(data, pieceLen)}
	for i, l := range lengths {
		info.Files = append(info.Files, metainfo.File{Length: l, Path: paths[i]})
	}
	return info
}

func singleInfo(name string, pieceLen int64, data []byte) *metainfo.Info {
	return &metainfo.Info{Name: name, PieceLength: pieceLen, Pieces: hashes(data, pieceLen), Length: int64(len(data))}
}

// writeAll writes data to st in chunks of chunk bytes.
func writeAll(t *testing.T, st Storage, data []byte, chunk int) {
	t.Helper()
	for off := 0; off < len(data); off += chunk {
		end := min(off+chunk, len(data))
		n, err := st.WriteAt(data[off:end], int64(off))
		require.NoError(t, err)
		require.Equal(t, end-off, n)
	}
}

// readAll reads the whole payload of size n from st.
func readAll(t *testing.T, st Storage, n int64) []byte {
	t.Helper()
	b := make([]byte, n)
	got, err := st.ReadAt(b, 0)
	require.NoError(t, err)
	require.Equal(t, int(n), got)
	return b
}

func fileBytes(t *testing.T, path ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(path...))
	require.NoError(t, err)
	return b
}
