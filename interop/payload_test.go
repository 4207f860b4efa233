package interop

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// payload is a generated folder to share: Name is the file or folder the torrent is made of,
// inside Dir (so Dir is what a seeder is pointed at).
type payload struct {
	Label string
	Dir   string
	Name  string
	Files []payloadFile
}

// payloadFile is one file, its path relative to the torrent's name (multi-file) or empty
// (single-file).
type payloadFile struct {
	Path string
	Size int64
}

// Root is the path of the payload's file or folder.
func (p *payload) Root() string { return filepath.Join(p.Dir, p.Name) }

// The payloads: sizes are deliberately not multiples of the 64 KiB piece or 16 KiB block,
// files straddle piece boundaries and one file is empty.
var payloadSpecs = []payload{
	{Label: "single", Name: "single.bin", Files: []payloadFile{{"", 3<<20 + 12345}}},
	{Label: "multi", Name: "multi", Files: []payloadFile{
		{"a/b/c/deep.bin", 100_001},
		{"a/b/mid.bin", 3*65536 + 1},
		{"a/top.bin", 777_777},
		{"empty.dat", 0},
		{"readme.txt", 12_345},
		{"z/last.bin", 1<<20 + 7},
	}},
}

// pieceLength is the piece size of every torrent the harness makes (64 KiB).
const pieceLength = 64 << 10

// makePayloads writes every payload under dir, deterministically.
func makePayloads(dir string) ([]*payload, error) {
	var out []*payload
	for i, spec := range payloadSpecs {
		p := spec
		p.Dir = filepath.Join(dir, p.Label)
		for j, f := range p.Files {
			rng := rand.New(rand.NewPCG(uint64(i), uint64(j)))
			if err := writeRandom(filepath.Join(p.Root(), f.Path), f.Size, rng); err != nil {
				return nil, fmt.Errorf("payload %s: %w", p.Label, err)
			}
		}
		out = append(out, &p)
	}
	return out, nil
}

func writeRandom(path string, size int64, rng *rand.Rand) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	buf := make([]byte, size+7)
	for i := 0; i < len(buf)-7; i += 8 {
		binary.LittleEndian.PutUint64(buf[i:], rng.Uint64())
	}
	return os.WriteFile(path, buf[:size], 0o644)
}

// copyPayload copies the payload into a fresh folder for one seeder, so that no tool can
// disturb the source other cases compare against. It returns the folder to point the seeder at.
func copyPayload(t *testing.T, p *payload) string {
	t.Helper()
	dst := t.TempDir()
	for _, f := range p.Files {
		rel := filepath.Join(p.Name, f.Path)
		if err := copyFile(filepath.Join(p.Dir, rel), filepath.Join(dst, rel)); err != nil {
			t.Fatalf("copy payload: %v", err)
		}
	}
	return dst
}

func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// fileSHA256 returns the hex sha256 of a file.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return fmt.Sprintf("%x", h.Sum(nil)), nil
}
