"""Writes the deterministic fixture payloads into the folder given as argument:
single.bin (300,001 bytes) and multi/, a nested folder with odd sizes, a 0-byte file and a
hidden file. The same layout is used by the Go interop tests (metainfo/interop_test.go)."""
import os, random, sys

root = sys.argv[1]
rng = random.Random(20261126)
files = {
    "single.bin": 300_001,
    "multi/a/b/c/x.bin": 100_003,
    "multi/a/b/y.bin": 17,
    "multi/a-b/z.txt": 4_097,
    "multi/.hidden": 5,
    "multi/empty.dat": 0,
    "multi/zz/last.bin": 65_537,
}
for rel, size in files.items():
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(rng.randbytes(size))
