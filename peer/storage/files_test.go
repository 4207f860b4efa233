package storage

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSingleFile(t *testing.T) {
	dir := t.TempDir()
	data := payload(1, 1000)
	info := singleInfo("one.bin", 64, data)
	st, err := OpenFiles(info, dir)
	require.NoError(t, err)
	writeAll(t, st, data, 100)
	assert.Equal(t, data, readAll(t, st, 1000))
	require.NoError(t, st.Close())
	assert.Equal(t, data, fileBytes(t, dir, "one.bin"))
}

func TestMultiFileLayouts(t *testing.T) {
	tests := []struct {
		name    string
		lengths []int64
	}{
		{"boundaries inside pieces", []int64{100, 37, 250, 13, 600}},
		{"zero-byte first", []int64{0, 500, 500}},
		{"zero-byte last", []int64{500, 500, 0}},
		{"zero-byte adjacent", []int64{300, 0, 0, 400, 0, 300}},
		{"only zero-byte files", []int64{0, 0}},
		{"one-byte files", []int64{1, 1, 1, 1, 1, 995}},
		{"piece-aligned", []int64{128, 256, 616}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			testLayout(t, tc.lengths)
		})
	}
}

func testLayout(t *testing.T, lengths []int64) {
	var total int64
	var paths [][]string
	for i, l := range lengths {
		total += l
		paths = append(paths, []string{"d" + string(rune('a'+i%3)), "sub", "f" + string(rune('a'+i))})
	}
	data := payload(2, total)
	dir := t.TempDir()
	info := multiInfo("multi", 128, data, paths, lengths)
	st, err := OpenFiles(info, dir)
	require.NoError(t, err)
	for i, p := range paths { // 0-byte files exist at once; the others when written to
		fi, err := os.Stat(filepath.Join(append([]string{dir, "multi"}, p...)...))
		if lengths[i] > 0 {
			assert.ErrorIs(t, err, fs.ErrNotExist, "%v made before its first block", p)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, int64(0), fi.Size())
	}
	writeAll(t, st, data, 77) // chunks that cross file boundaries
	assert.Equal(t, data, readAll(t, st, total))
	require.NoError(t, st.Close())
	var off int64
	for i, p := range paths {
		got := fileBytes(t, append([]string{dir, "multi"}, p...)...)
		assert.Equal(t, data[off:off+lengths[i]], got, "file %v", p)
		off += lengths[i]
	}
}

func TestReadUnwrittenIsZero(t *testing.T) {
	info := multiInfo("z", 16, make([]byte, 100), [][]string{{"a"}, {"b"}}, []int64{40, 60})
	st, err := OpenFiles(info, t.TempDir())
	require.NoError(t, err)
	defer st.Close()
	_, err = st.WriteAt([]byte{1, 2}, 50)
	require.NoError(t, err)
	b := readAll(t, st, 100)
	want := make([]byte, 100)
	want[50], want[51] = 1, 2
	assert.Equal(t, want, b)
}

func TestBounds(t *testing.T) {
	info := singleInfo("f", 16, make([]byte, 10))
	st, err := OpenFiles(info, t.TempDir())
	require.NoError(t, err)
	defer st.Close()
	for name, s := range map[string]Storage{"files": st, "memory": NewMemory(10)} {
		t.Run(name, func(t *testing.T) {
			_, err := s.WriteAt([]byte{1, 2}, 9)
			assert.ErrorIs(t, err, ErrOutOfRange)
			_, err = s.WriteAt([]byte{1}, -1)
			assert.ErrorIs(t, err, ErrOutOfRange)
			_, err = s.ReadAt(make([]byte, 1), -1)
			assert.ErrorIs(t, err, ErrOutOfRange)
			n, err := s.ReadAt(make([]byte, 4), 8)
			assert.ErrorIs(t, err, io.EOF)
			assert.Equal(t, 2, n)
			n, err = s.ReadAt(make([]byte, 4), 10)
			assert.ErrorIs(t, err, io.EOF)
			assert.Equal(t, 0, n)
			n, err = s.WriteAt(nil, 10)
			assert.NoError(t, err)
			assert.Equal(t, 0, n)
		})
	}
}

func TestClosed(t *testing.T) {
	st, err := OpenFiles(singleInfo("f", 16, make([]byte, 10)), t.TempDir())
	require.NoError(t, err)
	_, err = st.WriteAt([]byte{1}, 3)
	require.NoError(t, err)
	sy, ok := st.(Syncer)
	require.True(t, ok, "file storage can be synced")
	require.NoError(t, sy.Sync())
	require.NoError(t, st.Close())
	assert.ErrorIs(t, sy.Sync(), ErrClosed)
	_, err = st.WriteAt([]byte{1}, 0)
	assert.ErrorIs(t, err, ErrClosed)
	_, err = st.ReadAt([]byte{1}, 0)
	assert.ErrorIs(t, err, ErrClosed)
}

func TestResumeDoesNotTruncate(t *testing.T) {
	dir := t.TempDir()
	data := payload(3, 500)
	info := multiInfo("r", 64, data, [][]string{{"a"}, {"b"}}, []int64{200, 300})
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "r"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "r", "a"), data[:200], 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "r", "b"), data[200:300], 0o644)) // partial
	st, err := OpenFiles(info, dir)
	require.NoError(t, err)
	got := readAll(t, st, 500)
	assert.Equal(t, data[:300], got[:300])
	assert.Equal(t, make([]byte, 200), got[300:])
	require.NoError(t, st.Close())
	assert.Equal(t, data[200:300], fileBytes(t, dir, "r", "b"), "not truncated nor extended")
}

func TestUnusualNames(t *testing.T) {
	names := [][]string{
		{"spaces in name.txt"}, {"ünïcødé", "日本語.bin"}, {"semi;colon&amp'quote\"s"},
		{"-dash"}, {".hidden"}, {"a:b*c?d"}, {"new\nline"}, {"percent%20x"},
	}
	lengths := make([]int64, len(names))
	for i := range lengths {
		lengths[i] = 10
	}
	data := payload(4, int64(10*len(names)))
	dir := t.TempDir()
	st, err := OpenFiles(multiInfo("we ird", 32, data, names, lengths), dir)
	require.NoError(t, err)
	writeAll(t, st, data, 33)
	require.NoError(t, st.Close())
	for i, p := range names {
		assert.Equal(t, data[i*10:i*10+10], fileBytes(t, append([]string{dir, "we ird"}, p...)...))
	}
}

func TestManyFilesBoundedHandles(t *testing.T) {
	const n = 3 * MaxOpenFiles
	var paths [][]string
	lengths := make([]int64, n)
	for i := range n {
		paths = append(paths, []string{"dir", string(rune('a'+i/26%26)) + string(rune('a'+i%26))})
		lengths[i] = 7
	}
	data := payload(5, 7*n)
	dir := t.TempDir()
	st, err := OpenFiles(multiInfo("many", 16, data, paths, lengths), dir)
	require.NoError(t, err)
	writeAll(t, st, data, 5)
	fs := st.(*files)
	assert.LessOrEqual(t, len(fs.handles.byIdx), MaxOpenFiles)
	assert.Equal(t, data, readAll(t, st, 7*n))
	require.NoError(t, st.Close())
	assert.Equal(t, data[7*100:7*101], fileBytes(t, dir, "many", "dir", paths[100][1]))
}

func TestNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "x"), 0o755))
	_, err := OpenFiles(singleInfo("x", 16, make([]byte, 10)), dir)
	require.Error(t, err)
}

func TestMemory(t *testing.T) {
	m := NewMemory(100)
	data := payload(6, 100)
	writeAll(t, m, data, 30)
	assert.Equal(t, data, readAll(t, m, 100))
	require.NoError(t, m.Close())
	assert.NotNil(t, NewMemory(-1))
}

// TestConcurrentWrites has goroutines write disjoint ranges across many files while the handle
// cache holds only two, so handles are evicted and reopened under contention (run with -race).
func TestConcurrentWrites(t *testing.T) {
	const nFiles, fileLen, workers = 20, 100, 8
	var paths [][]string
	lengths := make([]int64, nFiles)
	for i := range nFiles {
		paths = append(paths, []string{"f" + string(rune('a'+i))})
		lengths[i] = fileLen
	}
	data := payload(12, nFiles*fileLen)
	dir := t.TempDir()
	st, err := OpenFiles(multiInfo("conc", 64, data, paths, lengths), dir)
	require.NoError(t, err)
	st.(*files).handles.limit = 2
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for off := w * 25; off < len(data); off += workers * 25 {
				if _, err := st.WriteAt(data[off:off+25], int64(off)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Equal(t, data, readAll(t, st, int64(len(data))))
	require.NoError(t, st.Close())
	assert.Equal(t, data[fileLen*7:fileLen*8], fileBytes(t, dir, "conc", "fh"))
}

func TestSyncNestedFolders(t *testing.T) {
	data := payload(4, 300)
	info := multiInfo("n", 64, data, [][]string{{"a", "b", "x"}, {"a", "y"}, {"z"}}, []int64{100, 100, 100})
	dir := t.TempDir()
	st, err := OpenFiles(info, dir)
	require.NoError(t, err)
	_, err = st.WriteAt(data, 0)
	require.NoError(t, err)
	sy := st.(Syncer)
	require.NoError(t, sy.Sync(), "files and every folder up to the download folder")
	require.NoError(t, sy.Sync())
	require.NoError(t, st.Close())
	got, err := os.ReadFile(filepath.Join(dir, "n", "a", "b", "x"))
	require.NoError(t, err)
	assert.Equal(t, data[:100], got)
}

// TestMissingFilesMadeOnFirstWrite: opening a payload that is not on disk makes nothing but
// its 0-byte files; a missing file reads as zeros and is made, with its folders, by the first
// write to it; the others stay absent (regression: an interrupted download left 0-byte files).
func TestMissingFilesMadeOnFirstWrite(t *testing.T) {
	dir := t.TempDir()
	data := payload(5, 300)
	info := multiInfo("lazy", 64, data, [][]string{{"a", "x"}, {"b", "y"}, {"empty"}, {"c"}}, []int64{100, 100, 0, 100})
	st, err := OpenFiles(info, dir)
	require.NoError(t, err)
	exists := func(p ...string) bool {
		_, err := os.Stat(filepath.Join(append([]string{dir, "lazy"}, p...)...))
		return err == nil
	}
	assert.True(t, exists("empty"), "a 0-byte file is content: made at once")
	assert.False(t, exists("a"), "no folder before a file in it is written")
	assert.False(t, exists("c"))
	got := make([]byte, 300)
	_, err = st.ReadAt(got, 0)
	require.NoError(t, err)
	assert.Equal(t, make([]byte, 300), got, "missing files read as zeros")

	_, err = st.WriteAt(data[150:160], 150) // inside b/y
	require.NoError(t, err)
	assert.True(t, exists("b", "y"))
	assert.False(t, exists("a"))
	assert.False(t, exists("c"))
	require.NoError(t, st.(Syncer).Sync(), "sync skips the folders not made yet")
	require.NoError(t, st.Close())

	st, err = OpenFiles(info, dir)
	require.NoError(t, err)
	defer st.Close()
	assert.True(t, st.(Presence).Present(100, 60), "b/y is found again, as long as written")
	assert.False(t, st.(Presence).Present(0, 10))
	assert.False(t, exists("a"))
}
