package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// allowedDirs is the set of roots save folders must lie in.
type allowedDirs struct {
	roots []string // absolute, symlinks resolved
}

func newAllowedDirs(roots []string) (allowedDirs, error) {
	var a allowedDirs
	for _, r := range roots {
		if r == "" {
			continue
		}
		abs, err := resolve(r)
		if err != nil {
			return a, fmt.Errorf("allowed folder %q: %w", r, err)
		}
		a.roots = append(a.roots, abs)
	}
	return a, nil
}

// check returns dir made absolute, or ErrDirNotAllowed when it is outside every root. Symlinks
// in the part that exists are resolved first, so a link inside a root cannot lead out of it.
func (a allowedDirs) check(dir string) (string, error) {
	if dir == "" || !filepath.IsAbs(dir) {
		return "", fmt.Errorf("%w: %q: want an absolute path", ErrDirNotAllowed, dir)
	}
	real, err := resolve(dir)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrDirNotAllowed, dir, err)
	}
	for _, root := range a.roots {
		if rel, err := filepath.Rel(root, real); err == nil && filepath.IsLocal(rel) || real == root {
			return filepath.Clean(dir), nil
		}
	}
	return "", fmt.Errorf("%w: %q is outside the allowed folders", ErrDirNotAllowed, dir)
}

// resolve makes p absolute and resolves symlinks in its longest existing prefix; the rest is
// appended as is (it does not exist yet, so it holds no links).
func resolve(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rest := ""
	cur := abs
	for {
		real, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(real, rest), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// writeAtomic replaces path with data so that a crash leaves the old or the new file, never a
// torn one: temp file in the same folder, fsync, rename, fsync the folder.
func writeAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Chmod(perm)
	}
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, werr)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
