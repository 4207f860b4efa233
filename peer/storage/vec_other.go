//go:build !linux

package storage

// readv fills iov from f at off, one ReadAt per buffer (preadv is used on Linux).
func readv(f osFile, iov [][]byte, off int64) error { return readvFallback(f, iov, off) }

// writev writes iov to f at off, one WriteAt per buffer (pwritev is used on Linux).
func writev(f osFile, iov [][]byte, off int64) error { return writevFallback(f, iov, off) }
