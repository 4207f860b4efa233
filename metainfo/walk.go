package metainfo

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ErrBadSource means Create was pointed at something it will not put in a torrent: an empty
// folder, a special file, a symlink to a folder or a dangling symlink.
var ErrBadSource = errors.New("metainfo: unsupported source")

// srcFile is one file found under the folder given to Create.
type srcFile struct {
	rel    []string // components below the root folder
	abs    string
	length int64
}

// listFiles walks root and returns its regular files sorted bytewise by their slash-joined
// relative path, the order mktorrent uses (so "a/b/c/x" < "a/b/y" < "empty.dat").
//
// Choices, kept deliberately close to mktorrent so info-hashes match:
//   - hidden files and folders (dot names) are included;
//   - a symlink to a regular file is followed and its target's content is hashed under the
//     link's name; a symlink to a folder is refused (it could loop or leave the tree), as is a
//     dangling symlink or any special file (FIFO, socket, device);
//   - empty files are included; empty folders leave no trace.
func listFiles(root string) ([]srcFile, error) {
	var files []srcFile
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if len(files) >= MaxFiles {
			return fmt.Errorf("%w: more than %d files", ErrTooLarge, MaxFiles)
		}
		f, err := statSource(root, p)
		if err != nil {
			return err
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: %s holds no files", ErrBadSource, root)
	}
	slices.SortFunc(files, func(a, b srcFile) int {
		return strings.Compare(strings.Join(a.rel, "/"), strings.Join(b.rel, "/"))
	})
	return files, nil
}

// statSource turns one walked entry into a srcFile, following file symlinks.
func statSource(root, p string) (srcFile, error) {
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return srcFile{}, err
	}
	parts := strings.Split(filepath.ToSlash(rel), "/")
	for _, c := range parts {
		if err := checkComponent(c, p); err != nil {
			return srcFile{}, fmt.Errorf("%w: %s: name %q cannot go in a torrent", ErrBadSource, p, c)
		}
	}
	st, err := os.Stat(p) // follows symlinks
	if err != nil {
		return srcFile{}, fmt.Errorf("%w: %s: %v", ErrBadSource, p, err)
	}
	if !st.Mode().IsRegular() {
		kind := "a special file"
		if st.IsDir() {
			kind = "a symlink to a folder"
		}
		return srcFile{}, fmt.Errorf("%w: %s is %s", ErrBadSource, p, kind)
	}
	return srcFile{rel: parts, abs: p, length: st.Size()}, nil
}

// openFile is a segment opener for a file on disk.
func openFile(path string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return os.Open(path) }
}
