//go:build unix

package storage

import (
	"io/fs"
	"syscall"
)

// allocatedBytes is the space fi's file takes on disk: its 512-byte blocks (st_blocks of
// stat(2)), which leave out the holes of a sparse file. Without them, it is the size.
func allocatedBytes(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return fi.Size()
}
