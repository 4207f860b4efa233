// Package storage maps a torrent's pieces onto files (or memory) and verifies them.
package storage

import (
	"context"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer/bitfield"
)

// Storage is the payload as one flat range of TotalLength bytes. Implementations are safe for
// concurrent use by goroutines touching different ranges.
type Storage interface {
	ReadAt(p []byte, off int64) (int, error)
	WriteAt(p []byte, off int64) (int, error)
	// Close flushes and releases files.
	Close() error
}

// OpenFiles opens (creating folders and files as needed, 0-byte files included) the payload of
// info under dir, i.e. dir/<name>. It never touches a path outside dir.
func OpenFiles(info *metainfo.Info, dir string) (Storage, error) { panic("unimplemented") }

// NewMemory returns an in-memory Storage of size bytes, for tests and the demo.
func NewMemory(size int64) Storage { panic("unimplemented") }

// VerifyPiece reads piece i from st and reports whether its SHA-1 matches.
func VerifyPiece(info *metainfo.Info, st Storage, i int) (bool, error) { panic("unimplemented") }

// Check verifies every piece already in st with workers goroutines (0 = all cores) and returns
// the pieces that are good. progress, if non-nil, is called with the count of pieces checked.
func Check(ctx context.Context, info *metainfo.Info, st Storage, workers int, progress func(checked int)) (bitfield.Bitfield, error) {
	panic("unimplemented")
}
