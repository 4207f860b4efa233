package metainfo

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// checkComponent rejects a path component that could escape the download folder or name
// something other than one plain file or folder: empty, "." or "..", or containing a slash,
// a backslash or NUL. Backslashes are refused on every OS because Windows treats them as
// separators.
func checkComponent(c, field string) error {
	switch {
	case c == "":
		return fieldErr(ErrUnsafePath, field, "empty path component")
	case c == "." || c == "..":
		return fieldErr(ErrUnsafePath, field, "path component %q is not allowed", c)
	case strings.ContainsAny(c, "/\\\x00"):
		return fieldErr(ErrUnsafePath, field, "path component %q contains a separator or NUL", c)
	}
	return nil
}

// checkPath validates the components of one file path below the torrent's name folder and
// checks the joined result with filepath.IsLocal, which also catches OS-specific traps such as
// reserved names on Windows.
func checkPath(path []string, field string) error {
	if len(path) == 0 {
		return fieldErr(ErrUnsafePath, field, "empty path")
	}
	for i, c := range path {
		if err := checkComponent(c, ""); err != nil {
			return prefixErr(fmt.Sprintf("%s[%d]", field, i), err)
		}
	}
	if j := filepath.Join(path...); !filepath.IsLocal(j) {
		return fieldErr(ErrUnsafePath, field, "%q is not a local path", j)
	}
	return nil
}

// checkFileTree rejects two files with the same path, and a file whose path is also a folder
// of another file: either would make two entries write to one place on disk. Paths are joined
// with NUL, which no component contains and which sorts lowest, so after sorting a clash is
// always between neighbours: the run in O(n log n) whatever the depth of the paths.
func checkFileTree(files []File) error {
	keys := make([]string, len(files))
	order := make([]int, len(files))
	for i, f := range files {
		keys[i] = strings.Join(f.Path, "\x00")
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	for k := 1; k < len(order); k++ {
		prev, cur := order[k-1], order[k]
		field := fmt.Sprintf("info.files[%d].path", max(prev, cur))
		switch {
		case keys[prev] == keys[cur]:
			return fieldErr(ErrUnsafePath, field, "duplicates info.files[%d]", min(prev, cur))
		case strings.HasPrefix(keys[cur], keys[prev]+"\x00"):
			return fieldErr(ErrUnsafePath, fmt.Sprintf("info.files[%d].path", cur),
				"is inside info.files[%d], which is a file", prev)
		}
	}
	return nil
}
