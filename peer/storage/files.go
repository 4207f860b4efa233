package storage

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
	"syscall"

	"github.com/swarm-bt/swarm/metainfo"
)

// fileSpan is one file of the payload.
type fileSpan struct {
	path   string // relative to the download folder, e.g. name/sub/file
	offset int64
	length int64
	size   atomic.Int64 // bytes on disk: stat at open, grown by our writes
	// onDisk: the file exists (found at open, or made by the first write to it). A missing
	// file is made only when a block arrives for it, so that an interrupted download leaves
	// no empty files (nor folders) behind; until then it reads as zeros.
	onDisk atomic.Bool
}

// files is the Storage of a payload under a download folder.
type files struct {
	dir     string
	root    *os.Root
	spans   []*fileSpan
	total   int64
	handles *handleCache
	// dirsSynced: the folders' entries for the files were made durable by a Sync (they do
	// not change afterwards).
	dirsSynced atomic.Bool
}

// OpenFiles opens the payload of info under dir, i.e. dir/<name> for a single file or
// dir/<name>/<path...> for many. It never touches a path outside dir: all access goes through
// an os.Root on dir, so ".." components, absolute paths and symlinks already in the folder
// that point outside it are refused. Files are opened read-write, never truncated (resume
// keeps what is there) and not preallocated (they grow sparsely as blocks arrive). A missing
// file is created, with its folders, when the first block is written to it (0-byte files at
// once), so an interrupted download leaves no empty files; it reads as zeros until then.
// Existing files that cannot be opened for writing (permissions, read-only mount) are opened
// read-only, for seeding; writes to them fail. At most MaxOpenFiles handles stay open at once.
func OpenFiles(info *metainfo.Info, dir string) (Storage, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open storage: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open storage: %w", err)
	}
	s := &files{dir: dir, root: root}
	for _, e := range info.FileEntries() {
		s.spans = append(s.spans, &fileSpan{path: e.Path, offset: e.Offset, length: e.Length})
		s.total += e.Length
	}
	s.handles = newHandleCache(MaxOpenFiles, s.openSpan)
	for _, sp := range s.spans {
		if err := s.open(sp); err != nil {
			return nil, errors.Join(fmt.Errorf("open storage: %w", err), root.Close())
		}
	}
	return s, nil
}

// open records the size of an existing file and checks it is a regular file. A missing file
// waits for its first write (see onDisk), except a 0-byte one, which no write will make.
func (s *files) open(sp *fileSpan) error {
	_, err := s.root.Stat(sp.path)
	if errors.Is(err, fs.ErrNotExist) && sp.length > 0 {
		return nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err // escapes the folder, or a file where a folder should be
	}
	return s.create(sp)
}

// create makes the file's folders and the file itself, and records its size on disk.
func (s *files) create(sp *fileSpan) error {
	if d := filepath.Dir(sp.path); d != "." {
		if err := s.root.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	f, err := s.openFile(sp.path)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s: not a regular file", sp.path)
	}
	if err != nil {
		return errors.Join(err, f.Close())
	}
	growTo(&sp.size, fi.Size()) // not Store: a write racing with this one may have grown it
	sp.onDisk.Store(true)
	return f.Close()
}

// openSpan reopens a file for the handle cache. O_CREATE again: a file deleted under us comes
// back empty, so it reads as zeros (a bad piece), not as an error.
func (s *files) openSpan(idx int) (osFile, error) {
	f, err := s.openFile(s.spans[idx].path)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return f, nil
}

// openFile opens a file read-write, creating it if missing. An existing file we may not write
// (permissions, a read-only mount) is opened read-only instead, so that its data can still be
// checked and seeded; writing to it then fails.
func (s *files) openFile(path string) (*os.File, error) {
	f, err := s.root.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil && (errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS)) {
		if ro, rerr := s.root.Open(path); rerr == nil {
			return ro, nil
		}
	}
	return f, err
}

// path is file idx's path for messages: the download folder joined with its payload path.
func (s *files) path(idx int) string { return filepath.Join(s.dir, s.spans[idx].path) }

// find returns the index of the first file holding byte off (0-byte files hold none).
func (s *files) find(off int64) int {
	return sort.Search(len(s.spans), func(i int) bool {
		return s.spans[i].offset+s.spans[i].length > off
	})
}

// each calls fn for every non-empty piece of p = payload[off:off+len(p)] within one file.
func (s *files) each(p []byte, off int64, fn func(idx int, part []byte, fileOff int64) error) error {
	for i := s.find(off); len(p) > 0 && i < len(s.spans); i++ {
		sp := s.spans[i]
		if sp.length == 0 {
			continue
		}
		n := min(int64(len(p)), sp.offset+sp.length-off)
		if err := fn(i, p[:n], off-sp.offset); err != nil {
			return err
		}
		p, off = p[n:], off+n
	}
	return nil
}

func (s *files) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read at %d: %w", off, ErrOutOfRange)
	}
	if off >= s.total {
		return 0, eofIf(len(p) > 0)
	}
	n := int(min(int64(len(p)), s.total-off))
	if err := s.each(p[:n], off, s.readPart); err != nil {
		return 0, err
	}
	return n, eofIf(n < len(p))
}

// readPart reads from one file; bytes past the file's current end (or of a file not made
// yet) read as zeros.
func (s *files) readPart(idx int, part []byte, fileOff int64) error {
	return s.readFile(idx, func() { clear(part) }, func(f osFile) error {
		n, err := f.ReadAt(part, fileOff)
		if err == io.EOF {
			clear(part[n:])
			err = nil
		}
		return err
	})
}

// readFile runs read on file idx's open handle, or zero when the file is not made yet (it
// reads as zeros).
func (s *files) readFile(idx int, zero func(), read func(f osFile) error) error {
	if !s.spans[idx].onDisk.Load() {
		zero()
		return nil
	}
	h, err := s.handles.acquire(idx)
	if err != nil {
		return fmt.Errorf("read %s: %w", s.path(idx), err)
	}
	defer s.handles.release(h, false)
	if err := read(h.f); err != nil {
		return fmt.Errorf("read %s: %w", s.path(idx), err)
	}
	return nil
}

// ReadVecAt fills bufs from off on, one vectored read per file (see VectorReader).
func (s *files) ReadVecAt(bufs [][]byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read at %d: %w", off, ErrOutOfRange)
	}
	want := vecLen(bufs)
	n := min(want, max(s.total-off, 0))
	if err := s.eachVec(bufs, off, n, s.readvPart); err != nil {
		return 0, err
	}
	return int(n), eofIf(n < want)
}

// WriteVecAt writes bufs laid end to end at off, one vectored write per file (see
// VectorWriter).
func (s *files) WriteVecAt(bufs [][]byte, off int64) (int, error) {
	n := vecLen(bufs)
	if off < 0 || off > s.total-n {
		return 0, fmt.Errorf("write %d bytes at %d of %d: %w", n, off, s.total, ErrOutOfRange)
	}
	if err := s.eachVec(bufs, off, n, s.writevPart); err != nil {
		return 0, err
	}
	return int(n), nil
}

func vecLen(bufs [][]byte) int64 {
	n := int64(0)
	for _, b := range bufs {
		n += int64(len(b))
	}
	return n
}

// eachVec calls fn for each file holding part of the n bytes at off, with that part as
// sub-slices of bufs (laid end to end) and its offset in the file.
func (s *files) eachVec(bufs [][]byte, off, n int64, fn func(idx int, iov [][]byte, fileOff int64) error) error {
	var iov [][]byte
	cur, pos := 0, 0 // bufs[cur][pos:] is where the next byte goes
	for i := s.find(off); n > 0 && i < len(s.spans); i++ {
		sp := s.spans[i]
		if sp.length == 0 {
			continue
		}
		part := min(n, sp.offset+sp.length-off)
		iov = iov[:0]
		for k := part; k > 0; {
			b := bufs[cur][pos:]
			b = b[:min(int64(len(b)), k)]
			iov = append(iov, b)
			k -= int64(len(b))
			if pos += len(b); pos == len(bufs[cur]) {
				cur, pos = cur+1, 0
			}
		}
		if err := fn(i, iov, off-sp.offset); err != nil {
			return err
		}
		off, n = off+part, n-part
	}
	return nil
}

// readvPart fills iov from one file, like readPart.
func (s *files) readvPart(idx int, iov [][]byte, fileOff int64) error {
	return s.readFile(idx, func() {
		for _, b := range iov {
			clear(b)
		}
	}, func(f osFile) error { return readv(f, iov, fileOff) })
}

// writevPart writes iov to one file, like writePart.
func (s *files) writevPart(idx int, iov [][]byte, fileOff int64) error {
	return s.writeFile(idx, fileOff+vecLen(iov), func(f osFile) error { return writev(f, iov, fileOff) })
}

// writevFallback writes iov with one WriteAt each.
func writevFallback(f io.WriterAt, iov [][]byte, off int64) error {
	for _, b := range iov {
		if _, err := f.WriteAt(b, off); err != nil {
			return err
		}
		off += int64(len(b))
	}
	return nil
}

// readvFallback fills iov with one ReadAt each; bytes past the file's end read as zeros.
func readvFallback(f io.ReaderAt, iov [][]byte, off int64) error {
	for _, b := range iov {
		n, err := f.ReadAt(b, off)
		if err == io.EOF {
			clear(b[n:])
			err = nil
		}
		if err != nil {
			return err
		}
		off += int64(len(b))
	}
	return nil
}

func (s *files) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off > s.total-int64(len(p)) {
		return 0, fmt.Errorf("write %d bytes at %d of %d: %w", len(p), off, s.total, ErrOutOfRange)
	}
	if err := s.each(p, off, s.writePart); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (s *files) writePart(idx int, part []byte, fileOff int64) error {
	return s.writeFile(idx, fileOff+int64(len(part)), func(f osFile) error {
		_, err := f.WriteAt(part, fileOff)
		return err
	})
}

// writeFile runs write on file idx's open handle, making the file first if needed, and
// records that the file now reaches end.
func (s *files) writeFile(idx int, end int64, write func(f osFile) error) error {
	sp := s.spans[idx]
	if !sp.onDisk.Load() {
		if err := s.create(sp); err != nil {
			return s.writeError(idx, err)
		}
	}
	h, err := s.handles.acquire(idx)
	if err != nil {
		return fmt.Errorf("write %s: %w", s.path(idx), err)
	}
	err = write(h.f)
	s.handles.release(h, true)
	if err != nil {
		return s.writeError(idx, err)
	}
	growTo(&sp.size, end)
	return nil
}

// writeError names the file and, for a full disk, returns a *DiskFullError.
func (s *files) writeError(idx int, err error) error {
	path := s.path(idx)
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return &DiskFullError{Path: path, Need: s.missing(), Err: err}
	}
	return fmt.Errorf("write %s: %w", path, err)
}

// missing estimates the disk space the rest of the payload needs: every file's length less the
// space it already takes. Files are sparse and pieces arrive out of order (rarest first), so
// that space is the file's allocated blocks, not its size, which can already be full length.
// It stats each non-empty file, so it is only called once a write has failed for lack of space.
func (s *files) missing() int64 {
	var n int64
	for _, sp := range s.spans {
		n += max(sp.length-s.allocated(sp), 0)
	}
	return n
}

// allocated is the space file sp takes on disk; 0 if it cannot be told (say, deleted under us).
func (s *files) allocated(sp *fileSpan) int64 {
	if sp.size.Load() == 0 {
		return 0
	}
	fi, err := s.root.Stat(sp.path)
	if err != nil {
		return 0
	}
	return allocatedBytes(fi)
}

// growTo raises v to at least n.
func growTo(v *atomic.Int64, n int64) {
	for cur := v.Load(); cur < n && !v.CompareAndSwap(cur, n); cur = v.Load() {
	}
}

// Present reports whether every file under [off, off+n) is at least long enough on disk.
func (s *files) Present(off, n int64) bool {
	for i := s.find(off); i < len(s.spans) && s.spans[i].offset < off+n; i++ {
		sp := s.spans[i]
		if need := min(off+n, sp.offset+sp.length) - sp.offset; sp.size.Load() < need {
			return false
		}
	}
	return true
}

// Refresh implements Refresher.
func (s *files) Refresh() error {
	s.handles.invalidate()
	for _, sp := range s.spans {
		fi, err := s.root.Stat(sp.path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			sp.size.Store(0) // reopened, empty, at the next access
		case err != nil:
			return fmt.Errorf("refresh storage: %w", err)
		default:
			sp.size.Store(fi.Size())
		}
	}
	return nil
}

// Sync makes every file written since the last Sync durable (fsync). Close does not sync:
// like libtorrent, Transmission and aria2, the engine leaves write-back to the system, since
// an fsync of a whole download at exit costs seconds, and a resume check finds any piece a
// system crash loses.
func (s *files) Sync() error {
	if err := s.handles.syncAll(); err != nil {
		return fmt.Errorf("sync storage: %w", err)
	}
	if s.dirsSynced.Load() {
		return nil
	}
	// A file's data is durable only once the folder entry naming it is too.
	dirs := map[string]bool{".": true}
	for _, sp := range s.spans {
		for d := filepath.Dir(sp.path); !dirs[d]; d = filepath.Dir(d) {
			dirs[d] = true
		}
	}
	all := true
	for d := range dirs {
		err := s.syncDir(d)
		if errors.Is(err, fs.ErrNotExist) { // no file under it was written yet
			all = false
			continue
		}
		if err != nil {
			return fmt.Errorf("sync storage: folder %s: %w", filepath.Join(s.dir, d), err)
		}
	}
	s.dirsSynced.Store(all)
	return nil
}

func (s *files) syncDir(d string) error {
	f, err := s.root.Open(d)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}

// Close closes every handle and the folder.
func (s *files) Close() error {
	err := s.handles.closeAll()
	return errors.Join(err, s.root.Close())
}
