package peertest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer/storage"
)

// Torrent is a generated payload and its metainfo.
type Torrent struct {
	Meta     *metainfo.MetaInfo
	Info     *metainfo.Info
	InfoHash metainfo.Hash
	// Payload is the whole payload, files concatenated in torrent order.
	Payload []byte
}

// Payload returns size pseudo-random bytes from seed.
func Payload(size int64, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, size)
	for i := 0; i+8 <= len(b); i += 8 {
		v := rng.Uint64()
		for k := range 8 {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	for i := len(b) &^ 7; i < len(b); i++ {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// NewTorrent makes a single-file torrent named name of size pseudo-random bytes from seed.
func NewTorrent(name string, size, pieceLength int64, seed uint64) (*Torrent, error) {
	payload := Payload(size, seed)
	mi, err := metainfo.CreateFromReader(context.Background(), bytes.NewReader(payload), size, name,
		metainfo.CreateConfig{PieceLength: pieceLength, NoDate: true})
	if err != nil {
		return nil, fmt.Errorf("new torrent: %w", err)
	}
	return &Torrent{Meta: mi, Info: &mi.Info, InfoHash: mi.InfoHash, Payload: payload}, nil
}

// File is one file of a multi-file payload: a path below the torrent's folder ("a/b.dat")
// and a size (0-byte files allowed).
type File struct {
	Path string
	Size int64
}

// NewMultiFileTorrent writes the files with pseudo-random content under dir/name and makes
// the torrent of that folder.
func NewMultiFileTorrent(dir, name string, files []File, pieceLength int64, seed uint64) (*Torrent, error) {
	root := filepath.Join(dir, name)
	for i, f := range files {
		p := filepath.Join(root, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, fmt.Errorf("new torrent: %w", err)
		}
		if err := os.WriteFile(p, Payload(f.Size, seed+uint64(i)), 0o644); err != nil {
			return nil, fmt.Errorf("new torrent: %w", err)
		}
	}
	mi, err := metainfo.Create(context.Background(), metainfo.CreateConfig{Path: root, PieceLength: pieceLength, NoDate: true})
	if err != nil {
		return nil, fmt.Errorf("new torrent: %w", err)
	}
	var payload []byte
	for _, fe := range mi.Info.FileEntries() {
		b, err := os.ReadFile(filepath.Join(dir, fe.Path))
		if err != nil {
			return nil, fmt.Errorf("new torrent: %w", err)
		}
		payload = append(payload, b...)
	}
	return &Torrent{Meta: mi, Info: &mi.Info, InfoHash: mi.InfoHash, Payload: payload}, nil
}

// SeedStorage returns an in-memory storage holding the whole payload.
func (t *Torrent) SeedStorage() (storage.Storage, error) {
	st := storage.NewMemory(int64(len(t.Payload)))
	if _, err := st.WriteAt(t.Payload, 0); err != nil {
		return nil, fmt.Errorf("seed storage: %w", err)
	}
	return st, nil
}

// Compare reports whether st holds exactly the payload; the error names the first
// difference.
func (t *Torrent) Compare(st storage.Storage) error {
	got := make([]byte, len(t.Payload))
	if n, err := st.ReadAt(got, 0); n < len(got) {
		return fmt.Errorf("compare: read %d of %d bytes: %w", n, len(got), err)
	}
	if i := firstDiff(got, t.Payload); i >= 0 {
		return fmt.Errorf("compare: payloads differ at byte %d (piece %d)", i, int64(i)/t.Info.PieceLength)
	}
	return nil
}

func firstDiff(a, b []byte) int {
	if bytes.Equal(a, b) {
		return -1
	}
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return len(a)
}
