"""Writes the hand-made fixtures: extra-keys.torrent (valid: unknown info keys, one
holding a dictionary whose keys are out of order; prints the info-hash libtorrent computes for it) and malformed/*.torrent, each
broken in one way that metainfo.Parse must name (see metainfo/parse_test.go)."""
import hashlib, os, sys

def enc(v):
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, list):
        return b"l" + b"".join(enc(x) for x in v) + b"e"
    if isinstance(v, Raw):
        return v.b
    # dicts keep the order given, so fixtures can hold unsorted keys on purpose
    return b"d" + b"".join(enc(k) + enc(x) for k, x in v.items()) + b"e"

class Raw:
    def __init__(self, b): self.b = b

H = bytes(range(20))
TR = "http://127.0.0.1:6969/announce"

def single(**over):
    info = {"length": 40000, "name": "x.bin", "piece length": 32768, "pieces": H * 2}
    info.update(over)
    return dict(sorted(info.items()))

def multi(files, **over):
    info = {"files": files, "name": "dir", "piece length": 16384, "pieces": H}
    info.update(over)
    return dict(sorted(info.items()))

def torrent(info):
    return enc({"announce": TR, "info": info})

def f(length, *path):
    return {"length": length, "path": list(path)}

malformed = {
    "traversal": torrent(multi([f(10, "..", "etc", "passwd")])),
    "abs-path": torrent(multi([f(10, "/etc", "passwd")])),
    "backslash": torrent(multi([f(10, "..\\evil.exe")])),
    "name-dotdot": torrent(single(name="..")),
    "empty-path": torrent(multi([f(10)])),
    "bad-pieces-length": torrent(single(pieces=H * 2 + b"x")),
    "pieces-count": torrent(single(pieces=H * 3)),
    "negative-length": torrent(single(length=-1)),
    "negative-file-length": torrent(multi([f(-5, "a")])),
    "length-overflow": torrent(multi([f(2**63 - 1, "a"), f(1, "b")])),
    "int-too-big": torrent(single(length=Raw(b"i99999999999999999999e"))),
    "truncated": torrent(single())[:60],
    "info-not-dict": enc({"announce": TR, "info": [1, 2]}),
    "no-info": enc({"announce": TR}),
    "not-a-dict": b"l4:spame",
    "zero-piece-length": torrent(single(**{"piece length": 0})),
    "huge-piece-length": torrent(single(**{"piece length": 256 << 20})),
    "both-length-files": torrent(multi([f(10, "a")], length=10)),
    "no-length-or-files": torrent({"name": "x", "piece length": 16384, "pieces": b""}),
    "empty-files": torrent(multi([], pieces=b"")),
    "duplicate-path": torrent(multi([f(5, "a", "b"), f(5, "a", "b")])),
    "file-and-folder": torrent(multi([f(5, "a"), f(5, "a", "b")])),
    "name-not-string": torrent(single(name=7)),
    "trailing-data": torrent(single()) + b"garbage",
    "no-pieces": torrent(single(length=0, pieces=b"")),
    "only-empty-files": torrent(multi([f(0, "a"), f(0, "b")], pieces=b"")),
    # Two names: the bencode library reads the last, libtorrent the first (issue 19).
    "duplicate-name": torrent(Raw(b"d6:lengthi40000e4:name5:x.bin4:name5:y.bin12:piece lengthi32768e6:pieces40:" + H * 2 + b"e")),
    "unsorted-keys": torrent({"name": "x.bin", "length": 40000, "piece length": 32768, "pieces": H * 2}),
}

here = sys.argv[1]
os.makedirs(os.path.join(here, "malformed"), exist_ok=True)
for name, data in malformed.items():
    with open(os.path.join(here, "malformed", name + ".torrent"), "wb") as out:
        out.write(data)

# Valid, with unknown info keys (one holds a dictionary whose keys are out of order): a client that
# re-encodes the info dictionary would get a different (wrong) info-hash.
info = {"length": 40000, "md5sum": "0" * 32, "name": "x.bin", "piece length": 32768,
        "pieces": H * 2, "x-custom": {"z": 1, "a": [b"\x00\xff"]}}
path = os.path.join(here, "extra-keys.torrent")
with open(path, "wb") as out:
    out.write(enc({"announce": TR, "zz-unknown": [1, "two"], "info": info, "encoding": "UTF-8"}))
print("extra-keys.torrent", hashlib.sha1(enc(info)).hexdigest(), "python-hashlib-of-raw-info")
