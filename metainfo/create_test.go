package metainfo

import (
	"bytes"
	"context"
	"crypto/sha1"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// payload returns n deterministic pseudo-random bytes.
func payload(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// writeTree writes files (slash paths relative to root) and returns root.
func writeTree(t *testing.T, files map[string][]byte) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "tree")
	for rel, data := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, data, 0o644))
	}
	return root
}

// assertPieces checks every piece hash against the concatenated payload.
func assertPieces(t *testing.T, content []byte, in *Info) {
	t.Helper()
	require.Equal(t, int64(len(content)), in.TotalLength())
	for i := range in.NumPieces() {
		off := int64(i) * in.PieceLength
		sum := sha1.Sum(content[off : off+in.PieceSize(i)])
		assert.Equal(t, sum[:], in.PieceHash(i), "piece %d", i)
	}
}

func TestCreateSingleFile(t *testing.T) {
	data := payload(1, 100_003)
	root := writeTree(t, map[string][]byte{"file.bin": data})
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m, err := Create(t.Context(), CreateConfig{
		Path: filepath.Join(root, "file.bin"), PieceLength: 16 << 10,
		Announce: [][]string{{"http://a/1", "http://a/2"}, {"http://b/1"}}, Comment: "hi",
		Source: "src", Private: true, WebSeeds: []string{"http://w/"}, CreationDate: when,
	})
	require.NoError(t, err)
	assert.Equal(t, "file.bin", m.Info.Name)
	assert.False(t, m.Info.IsMultiFile())
	assert.Equal(t, 7, m.Info.NumPieces())
	assertPieces(t, data, &m.Info)
	assert.True(t, m.Info.Private)
	assert.Equal(t, "src", m.Info.Source)
	assert.Equal(t, "http://a/1", m.Announce)
	assert.Equal(t, [][]string{{"http://a/1", "http://a/2"}, {"http://b/1"}}, m.Trackers())
	assert.Equal(t, when.Unix(), m.CreationDate)
	assert.Equal(t, "swarm", m.CreatedBy)
	assert.Equal(t, []string{"http://w/"}, m.URLList)

	out, err := m.Marshal()
	require.NoError(t, err)
	back, err := Parse(out)
	require.NoError(t, err)
	assert.Equal(t, m, back)
}

func TestCreateMultiFile(t *testing.T) {
	files := map[string][]byte{
		"a/b/c/x.bin": payload(2, 40_001), "a/b/y.bin": payload(3, 17), "a-b/z": payload(4, 5),
		".hidden": payload(5, 3), "empty.dat": nil, "zz/last": payload(6, 16_384),
	}
	root := writeTree(t, files)
	require.NoError(t, os.Mkdir(filepath.Join(root, "empty-dir"), 0o755))
	require.NoError(t, os.Symlink(filepath.Join(root, "a-b", "z"), filepath.Join(root, "link")))
	m, err := Create(t.Context(), CreateConfig{Path: root, PieceLength: 16 << 10, NoDate: true})
	require.NoError(t, err)
	order := []string{".hidden", "a-b/z", "a/b/c/x.bin", "a/b/y.bin", "empty.dat", "link", "zz/last"}
	var content []byte
	for i, rel := range order {
		want := files[rel]
		if rel == "link" {
			want = files["a-b/z"]
		}
		content = append(content, want...)
		assert.Equal(t, File{Length: int64(len(want)), Path: splitSlash(rel)}, m.Info.Files[i])
	}
	assert.Len(t, m.Info.Files, len(order))
	assert.Equal(t, "tree", m.Info.Name)
	assert.Zero(t, m.CreationDate)
	assertPieces(t, content, &m.Info)
}

func splitSlash(p string) []string { return strings.Split(p, "/") }

func TestCreateSymlinkedRoot(t *testing.T) {
	root := writeTree(t, map[string][]byte{"a": payload(10, 100), "b/c": payload(11, 7)})
	link := filepath.Join(t.TempDir(), "linked")
	require.NoError(t, os.Symlink(root, link))
	viaLink, err := Create(t.Context(), CreateConfig{Path: link, NoDate: true})
	require.NoError(t, err)
	assert.Equal(t, "linked", viaLink.Info.Name)
	assert.Equal(t, []File{{Length: 100, Path: []string{"a"}}, {Length: 7, Path: []string{"b", "c"}}}, viaLink.Info.Files)
}

// TestCreateRefusesNoData: a torrent of 0 bytes has no pieces, which other clients refuse
// and `get` cannot download (regression: it was written, and `info` accepted it).
func TestCreateRefusesNoData(t *testing.T) {
	root := writeTree(t, map[string][]byte{"empty": nil, "folder/a": nil, "folder/b/c": nil})
	_, err := Create(t.Context(), CreateConfig{Path: filepath.Join(root, "empty")})
	require.ErrorIs(t, err, ErrEmpty)
	assert.Equal(t, "create torrent: metainfo: no data to share: empty is empty (a torrent needs at least one byte)", err.Error())
	_, err = Create(t.Context(), CreateConfig{Path: filepath.Join(root, "folder")})
	require.ErrorIs(t, err, ErrEmpty)
	assert.Contains(t, err.Error(), "folder holds only empty files")
}

func TestCreateRefuses(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, root string) string
		want  error
		msg   string
	}{
		{"empty folder", func(t *testing.T, root string) string {
			return root
		}, ErrBadSource, "holds no files"},
		{"symlink to folder", func(t *testing.T, root string) string {
			require.NoError(t, os.Mkdir(filepath.Join(root, "d"), 0o755))
			require.NoError(t, os.Symlink(root, filepath.Join(root, "d", "loop")))
			return root
		}, ErrBadSource, "is a symlink to a folder"},
		{"dangling symlink", func(t *testing.T, root string) string {
			require.NoError(t, os.Symlink(filepath.Join(root, "nowhere"), filepath.Join(root, "dangling")))
			return root
		}, ErrBadSource, "no such file"},
		{"fifo", func(t *testing.T, root string) string {
			require.NoError(t, syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644))
			return root
		}, ErrBadSource, "is a special file"},
		{"backslash in a name", func(t *testing.T, root string) string {
			require.NoError(t, os.WriteFile(filepath.Join(root, `a\b`), nil, 0o644))
			return root
		}, ErrBadSource, `name "a\\b" cannot go in a torrent`},
		{"missing", func(t *testing.T, root string) string {
			return filepath.Join(root, "missing")
		}, os.ErrNotExist, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.setup(t, t.TempDir())
			_, err := Create(t.Context(), CreateConfig{Path: path})
			require.ErrorIs(t, err, tt.want)
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}

func TestCreateBadPieceLength(t *testing.T) {
	for _, pl := range []int64{-1, MaxPieceLength + 1} {
		_, err := CreateFromReader(t.Context(), bytes.NewReader(nil), 0, "x", CreateConfig{PieceLength: pl})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "out of range")
	}
}

func TestCreateTooManyPieces(t *testing.T) {
	_, err := CreateFromReader(t.Context(), zeroReader{}, 1<<50, "huge", CreateConfig{PieceLength: 16 << 10})
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Contains(t, err.Error(), "use a larger piece length")
}

func TestCreateFromReaderMatchesCreate(t *testing.T) {
	data := payload(7, 50_000)
	root := writeTree(t, map[string][]byte{"p.bin": data})
	cfg := CreateConfig{PieceLength: 1 << 14, NoDate: true, Workers: 3}
	fromReader, err := CreateFromReader(t.Context(), bytes.NewReader(data), int64(len(data)), "p.bin", cfg)
	require.NoError(t, err)
	cfg.Path, cfg.Workers = filepath.Join(root, "p.bin"), 1
	fromFile, err := Create(t.Context(), cfg)
	require.NoError(t, err)
	assert.Equal(t, fromFile.InfoHash, fromReader.InfoHash)

	_, err = CreateFromReader(t.Context(), bytes.NewReader(data[:10]), 20, "short", cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "file shrank while hashing (10 bytes short)")
}

func TestCreateProgress(t *testing.T) {
	var calls []int64
	cfg := CreateConfig{PieceLength: 1 << 10, Workers: 4, Progress: func(hashed, total int64) {
		assert.Equal(t, int64(10_000), total)
		calls = append(calls, hashed)
	}}
	_, err := CreateFromReader(t.Context(), bytes.NewReader(payload(8, 10_000)), 10_000, "p", cfg)
	require.NoError(t, err)
	require.Len(t, calls, 10)
	assert.IsIncreasing(t, calls)
	assert.Equal(t, int64(10_000), calls[9])
}

func TestCreateCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := CreateFromReader(ctx, bytes.NewReader(payload(9, 1<<20)), 1<<20, "p", CreateConfig{PieceLength: 1 << 14})
	require.ErrorIs(t, err, context.Canceled)
}

func TestAutoPieceLength(t *testing.T) {
	tests := []struct{ total, want int64 }{
		{0, 16 << 10}, {1, 16 << 10}, {2000 * 16 << 10, 16 << 10}, {2000*16<<10 + 1, 32 << 10},
		{1 << 30, 1 << 20}, {100 << 30, 64 << 20 >> 2}, {1 << 50, 16 << 20},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, AutoPieceLength(tt.total), "total %d", tt.total)
	}
}

// TestCreateMemoryBounded streams 128 MiB through Create and checks that the bytes allocated
// stay near the buffer pool's size, not the content's.
func TestCreateMemoryBounded(t *testing.T) {
	const size = 128 << 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := CreateFromReader(t.Context(), io.LimitReader(zeroReader{}, size), size, "z", CreateConfig{PieceLength: 1 << 20, Workers: 2})
	require.NoError(t, err)
	runtime.ReadMemStats(&after)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(16<<20))
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }
