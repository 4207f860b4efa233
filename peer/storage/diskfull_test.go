package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/internal/testenv"
)

// fakeFile fails every write with err.
type fakeFile struct{ err error }

func (fakeFile) ReadAt(p []byte, _ int64) (int, error) { return len(p), nil }
func (f fakeFile) WriteAt([]byte, int64) (int, error)  { return 0, f.err }
func (fakeFile) Sync() error                           { return nil }
func (fakeFile) Close() error                          { return nil }

func TestWriteErrorWrapping(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		diskFull bool
	}{
		{"ENOSPC", &fs.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}, true},
		{"EDQUOT", &fs.PathError{Op: "write", Path: "x", Err: syscall.EDQUOT}, true},
		{"bare ENOSPC", syscall.ENOSPC, true},
		{"EIO", &fs.PathError{Op: "write", Path: "x", Err: syscall.EIO}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			info := multiInfo("full", 16, make([]byte, 100), [][]string{{"a"}, {"b"}}, []int64{30, 70})
			st, err := OpenFiles(info, dir)
			require.NoError(t, err)
			defer st.Close()
			st.(*files).handles.open = func(int) (osFile, error) { return fakeFile{tc.err}, nil }
			_, err = st.WriteAt(make([]byte, 20), 40)
			require.Error(t, err)
			path := filepath.Join(dir, "full", "b")
			assert.ErrorContains(t, err, path)
			assert.Equal(t, tc.diskFull, errors.Is(err, ErrDiskFull))
			if !tc.diskFull {
				assert.ErrorIs(t, err, syscall.EIO)
				return
			}
			var dfe *DiskFullError
			require.ErrorAs(t, err, &dfe)
			assert.Equal(t, path, dfe.Path)
			assert.Equal(t, int64(100), dfe.Need)
			assert.ErrorContains(t, err, "disk full")
			assert.True(t, errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT))
		})
	}
}

// TestDiskFullTmpfs fills a real 1 MiB tmpfs. It needs root (mount): see testenv.Tmpfs.
func TestDiskFullTmpfs(t *testing.T) {
	dir := testenv.Tmpfs(t, "1m")
	data := payload(11, 2<<20)
	info := multiInfo("big", 64<<10, data, [][]string{{"first"}, {"second"}}, []int64{512 << 10, 1536 << 10})
	st, err := OpenFiles(info, dir)
	require.NoError(t, err)
	var werr error
	var written int
	for off := 0; off < len(data) && werr == nil; off += 16 << 10 {
		_, werr = st.WriteAt(data[off:off+16<<10], int64(off))
		if werr == nil {
			written = off + 16<<10
		}
	}
	require.ErrorIs(t, werr, ErrDiskFull)
	assert.ErrorIs(t, werr, syscall.ENOSPC)
	assert.ErrorContains(t, werr, filepath.Join(dir, "big", "second"))
	var dfe *DiskFullError
	require.ErrorAs(t, werr, &dfe)
	assert.GreaterOrEqual(t, dfe.Need, int64(len(data)-1<<20), "2 MiB cannot fit in 1 MiB")
	t.Logf("error after %d bytes: %v", written, werr)
	got := make([]byte, written)
	_, err = st.ReadAt(got, 0)
	require.NoError(t, err)
	assert.Equal(t, data[:written], got, "what was written before the disk filled is intact")
	require.NoError(t, st.Close())
	require.NoError(t, os.Remove(filepath.Join(dir, "big", "first"))) // free space: writes work again
	st, err = OpenFiles(info, dir)
	require.NoError(t, err)
	_, err = st.WriteAt(data[written:written+16<<10], int64(written))
	assert.NoError(t, err)
	require.NoError(t, st.Close())
}

// TestDiskFullNeedSparse: Need counts the holes of sparse files written out of order (as the
// engine writes pieces rarest first), not only the bytes past each file's end.
func TestDiskFullNeedSparse(t *testing.T) {
	const blk = 64 << 10
	data := payload(17, 24*blk)
	lengths := []int64{4 * blk, 16 * blk, 4 * blk} // a, b, c
	var everyOther, reverseB []int64
	for i := int64(0); i < 24; i += 2 {
		everyOther = append(everyOther, i*blk)
	}
	for i := int64(19); i > 4; i-- {
		reverseB = append(reverseB, i*blk) // all of b but its first block, last block first
	}
	tests := []struct {
		name   string
		blocks []int64 // payload offsets of the 64 KiB blocks written, in order
	}{
		{"nothing", nil},
		{"a in order", []int64{0, blk, 2 * blk, 3 * blk}},
		{"last block of b only", []int64{19 * blk}},
		{"last block of c only", []int64{23 * blk}},
		{"b backwards", reverseB},
		{"every other block", everyOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			info := multiInfo("sparse", blk, data, [][]string{{"a"}, {"b"}, {"c"}}, lengths)
			st, err := OpenFiles(info, dir)
			require.NoError(t, err)
			for _, off := range tc.blocks {
				_, err := st.WriteAt(data[off:off+blk], off)
				require.NoError(t, err)
			}
			require.NoError(t, st.Close())
			requireSparse(t, filepath.Join(dir, "sparse", "b"), 16*blk)

			st, err = OpenFiles(info, dir) // a new session, as after a restart
			require.NoError(t, err)
			defer st.Close()
			st.(*files).handles.open = func(int) (osFile, error) { return fakeFile{syscall.ENOSPC}, nil }
			_, err = st.WriteAt(data[4*blk:5*blk], 4*blk)
			var dfe *DiskFullError
			require.ErrorAs(t, err, &dfe)
			want := int64(len(data) - len(tc.blocks)*blk)
			assert.InDelta(t, want, dfe.Need, 16<<10, "need %d, reported %d", want, dfe.Need)
		})
	}
}

// requireSparse skips the test (fails it under SWARM_STRICT=1) when the file system fills
// holes (the file at path, of length bytes, takes them all on disk although it was never
// fully written). A file not made yet takes no space.
func requireSparse(t *testing.T, path string, length int64) {
	t.Helper()
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	require.NoError(t, err)
	if fi.Size() == length && allocatedBytes(fi) >= length {
		testenv.MissingCapability(t, "keep sparse files", fmt.Errorf("%s takes all its %d bytes", path, length))
	}
}

// TestDiskFullTmpfsOutOfOrder fills a real 1 MiB tmpfs writing a 2 MiB file from its end
// backwards, so the file has its full size from the first write: the error must still tell
// that about the space written so far is missing. Needs root (mount): see testenv.Tmpfs.
func TestDiskFullTmpfsOutOfOrder(t *testing.T) {
	dir := testenv.Tmpfs(t, "1m")
	const chunk = 16 << 10
	data := payload(19, 2<<20)
	st, err := OpenFiles(singleInfo("back.bin", 64<<10, data), dir)
	require.NoError(t, err)
	defer st.Close()
	var werr error
	written := 0
	for off := len(data) - chunk; off >= 0 && werr == nil; off -= chunk {
		if _, werr = st.WriteAt(data[off:off+chunk], int64(off)); werr == nil {
			written += chunk
		}
	}
	var dfe *DiskFullError
	require.ErrorAs(t, werr, &dfe)
	t.Logf("error after %d bytes: %v", written, werr)
	assert.GreaterOrEqual(t, dfe.Need, int64(len(data)-1<<20), "2 MiB cannot fit in 1 MiB")
	assert.InDelta(t, len(data)-written, dfe.Need, chunk)
}

// TestReadOnlyMount seeds from a read-only file system: files open read-only, data checks
// good, and a write fails with an error naming the file. It needs root (mount): see testenv.Tmpfs.
func TestReadOnlyMount(t *testing.T) {
	dir := testenv.Tmpfs(t, "1m")
	data := payload(13, 1000)
	info := multiInfo("ro", 64, data, [][]string{{"a"}, {"b"}}, []int64{400, 600})
	st, err := OpenFiles(info, dir)
	require.NoError(t, err)
	writeAll(t, st, data, 100)
	require.NoError(t, st.Close())
	testenv.Remount(t, dir, "ro")
	st, err = OpenFiles(info, dir)
	require.NoError(t, err)
	defer st.Close()
	good, err := Check(context.Background(), info, st, 0, nil)
	require.NoError(t, err)
	assert.True(t, good.Full())
	_, err = st.WriteAt([]byte{1}, 500)
	require.Error(t, err)
	assert.ErrorContains(t, err, filepath.Join(dir, "ro", "b"))
}
