#!/usr/bin/env bash
# Regenerates the tool-made fixture torrents in this folder and fixtures.txt, the info-hash
# each torrent has according to the tools themselves (transmission-show for mktorrent and
# transmission-create, libtorrent for its own). The payloads are generated deterministically in
# a temporary folder and deleted; only the small .torrent files are committed.
# Needs mktorrent, transmission-cli and python3-libtorrent. Run from anywhere.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
/usr/bin/python3 "$here/make-payload.py" "$tmp"

lt_create() { # src out piece_length
  /usr/bin/python3 - "$@" <<'PY'
import sys, os, libtorrent as lt
src, out, pl = sys.argv[1], sys.argv[2], int(sys.argv[3])
fs = lt.file_storage()
lt.add_files(fs, src)
ct = lt.create_torrent(fs, pl, flags=lt.create_torrent.v1_only)
ct.add_tracker("http://127.0.0.1:6969/announce")
ct.set_creator("libtorrent")
lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(src)))
e = ct.generate()
e.pop(b"creation date", None)
open(out, "wb").write(lt.bencode(e))
print(lt.torrent_info(out).info_hash())
PY
}
show_hash() { transmission-show "$1" | awk '/^  Hash:/ {print $2}'; }

tr=http://127.0.0.1:6969/announce
rm -f "$here"/{mktorrent,transmission,libtorrent}-*.torrent
mktorrent -d -l 15 -a "$tr" -o "$here/mktorrent-single.torrent" single.bin >/dev/null
mktorrent -d -l 15 -p -s swarm-test -c "nested folder, odd sizes" -w http://127.0.0.1:8080/ \
  -a "$tr,http://127.0.0.2:6969/announce" -a http://127.0.0.3:6969/announce \
  -o "$here/mktorrent-multi.torrent" multi >/dev/null
transmission-create -s 32 -t "$tr" -o "$here/transmission-single.torrent" single.bin >/dev/null
transmission-create -s 16 -p -t "$tr" -o "$here/transmission-multi.torrent" multi >/dev/null

{
  echo "# file info-hash tool-that-printed-it (regenerate with make-fixtures.sh)"
  for f in mktorrent-single mktorrent-multi transmission-single transmission-multi; do
    echo "$f.torrent $(show_hash "$here/$f.torrent") transmission-show"
  done
  echo "libtorrent-single.torrent $(lt_create single.bin "$here/libtorrent-single.torrent" 32768) libtorrent"
  echo "libtorrent-multi.torrent $(lt_create multi "$here/libtorrent-multi.torrent" 16384) libtorrent"
  /usr/bin/python3 "$here/make-malformed.py" "$here"
  echo "extra-keys.torrent $(/usr/bin/python3 -c "import libtorrent as lt,sys; print(lt.torrent_info(sys.argv[1]).info_hash())" "$here/extra-keys.torrent") libtorrent"
} > "$here/fixtures.txt"
cat "$here/fixtures.txt"
