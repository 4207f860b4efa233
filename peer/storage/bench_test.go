package storage

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkCheck hashes a 256 MiB single-file payload (256 KiB pieces) in the page cache, with
// one worker and with all cores. MB/s is the payload checked per second.
func BenchmarkCheck(b *testing.B) {
	const size, pieceLen = 256 << 20, 256 << 10
	data := make([]byte, size)
	_, _ = rand.Read(data)
	info := singleInfo("bench.bin", pieceLen, data)
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bench.bin"), data, 0o644); err != nil {
		b.Fatal(err)
	}
	data = nil
	for _, workers := range []int{1, 0} {
		name := map[int]string{1: "workers=1", 0: "workers=all"}[workers]
		b.Run(name, func(b *testing.B) {
			st, err := OpenFiles(info, dir)
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			b.SetBytes(size)
			for b.Loop() {
				good, err := Check(context.Background(), info, st, workers, nil)
				if err != nil || !good.Full() {
					b.Fatalf("check: %v, %d good", err, good.Count())
				}
			}
		})
	}
}
