//go:build !unix

package storage

import "io/fs"

// allocatedBytes is the space fi's file takes on disk. Here it is the size: these systems
// (Windows without FSCTL_SET_SPARSE) fill a gap written past the end instead of leaving a hole.
func allocatedBytes(fi fs.FileInfo) int64 { return fi.Size() }
