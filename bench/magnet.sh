#!/usr/bin/env bash
# Magnet benchmark (issue 12), on loopback, no tracker (peers given directly):
#  (a) time from start to verified metadata for a torrent of 10,000 files (info dictionary
#      about 1 MiB), from 1 and from 4 libtorrent seeders: swarm get MAGNET vs a libtorrent
#      magnet leecher (both time from adding the link to having checked the metadata, process
#      start-up left out; swarm's figure is its "metadata fetched" log line);
#  (b) a download of SIZE_MIB from a swarm seeder: swarm get FILE.torrent vs swarm get MAGNET
#      (wall time of the whole command, metadata fetch and content check included).
# Runs are interleaved and the median of RUNS is reported.
# Usage: bench/magnet.sh [RUNS=3] [SIZE_MIB=1024]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
size_mib=${2:-1024}
work=$(mktemp -d /tmp/swarm-magnet.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

go build -o "$work/swarm" ./cmd/swarm
sw=$work/swarm
lt=interop/lt.py
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
now() { date +%s.%N; }
port() { echo $((30000 + RANDOM % 20000)); }

# wait_log FILE REGEX: waits up to 60 s for a line.
wait_log() {
  for _ in $(seq 600); do grep -qE "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timeout waiting for /$2/ in $1" >&2; tail -20 "$1" >&2; exit 1
}

# ---- (a) metadata of 10,000 files ------------------------------------------------------
mkdir -p "$work/many/files"
python3 - "$work/many/files" <<'PY'
import os, sys
root = sys.argv[1]
for i in range(10000):
    d = os.path.join(root, "folder-%03d-with-a-reasonably-long-name" % (i // 100))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "file-%05d-with-a-long-descriptive-name-like-real-ones.dat" % i), "wb") as f:
        f.write(bytes([i % 251]) * (1 + i % 97))
PY
"$sw" create "$work/many/files" -a http://127.0.0.1:9/announce --piece-length 16KiB -o "$work/many.torrent" -q
ih=$("$sw" info --json "$work/many.torrent" | python3 -c 'import json,sys; print(json.load(sys.stdin)["info_hash"])')
msize=$(python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); i=d.index(b"4:info")+6; print(len(d)-i-1)' "$work/many.torrent")
echo "metadata: 10000 files, info dictionary $msize bytes, infohash $ih"

seeders=()
for i in 1 2 3 4; do
  p=$(port)
  /usr/bin/python3 $lt seed --plugins --torrent "$work/many.torrent" --dir "$work/many" \
    --listen 127.0.1.$i:$p --reannounce 3600 >"$work/mseed$i.log" 2>&1 &
  pids+=($!)
  seeders+=("127.0.1.$i:$p")
done
for i in 1 2 3 4; do wait_log "$work/mseed$i.log" "^.* seeding$"; done

# meta_swarm N: seconds to verified metadata from the first N seeders.
meta_swarm() {
  local n=$1 link="magnet:?xt=urn:btih:$ih" s
  for s in "${seeders[@]:0:$n}"; do link+="&x.pe=$s"; done
  rm -rf "$work/mcache" "$work/mget" "$work/mget.log"; mkdir -p "$work/mcache" "$work/mget"; : >"$work/mget.log"
  "$sw" --log-level=info get -q "$link" -d "$work/mget" --bind 127.0.2.1 --port "$(port)" \
    --metadata-cache "$work/mcache" >"$work/mget.log" 2>&1 &
  local pid=$!
  wait_log "$work/mget.log" "metadata fetched"
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  python3 - "$work/mget.log" <<'PY'
import re, sys
for line in open(sys.argv[1]):
    if "metadata fetched" in line:
        d = re.search(r"elapsed=([0-9.]+)(µs|us|ms|s)", line)
        v, unit = float(d.group(1)), d.group(2)
        print({"µs": v / 1e6, "us": v / 1e6, "ms": v / 1e3, "s": v}[unit])
        break
else:
    sys.exit("no metadata fetched line")
PY
}

# meta_lt N: the same for a libtorrent magnet leecher.
meta_lt() {
  local n=$1 args=() s
  for s in "${seeders[@]:0:$n}"; do args+=(--peer "$s"); done
  rm -rf "$work/mget"; mkdir -p "$work/mget"
  /usr/bin/python3 $lt magnet --plugins --metadata-only --magnet "magnet:?xt=urn:btih:$ih" \
    --dir "$work/mget" --listen 127.0.2.2:"$(port)" "${args[@]}" >"$work/mlt.log" 2>&1
  grep -oE 'metadata [0-9.]+ s' "$work/mlt.log" | awk '{print $2}'
}

for n in 1 4; do
  : >"$work/a-swarm" ; : >"$work/a-lt"
  for _ in $(seq "$runs"); do
    meta_swarm "$n" >>"$work/a-swarm"
    meta_lt "$n" >>"$work/a-lt"
  done
  printf "metadata from %d seeder(s): swarm median %.3f s (%s), libtorrent median %.3f s (%s)\n" "$n" \
    "$(median <"$work/a-swarm")" "$(tr '\n' ' ' <"$work/a-swarm" | sed 's/ $//')" \
    "$(median <"$work/a-lt")" "$(tr '\n' ' ' <"$work/a-lt" | sed 's/ $//')"
done
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
wait 2>/dev/null || true
pids=()
rm -rf "$work/many"

# ---- (b) SIZE_MIB from the .torrent vs from the magnet --------------------------------
mkdir -p "$work/src"
head -c $((size_mib << 20)) /dev/urandom >"$work/src/payload.bin"
"$sw" create "$work/src/payload.bin" -a http://127.0.0.1:9/announce --piece-length 256KiB -o "$work/p.torrent" -q
pih=$("$sw" info --json "$work/p.torrent" | python3 -c 'import json,sys; print(json.load(sys.stdin)["info_hash"])')
sport=$(port)
"$sw" seed "$work/p.torrent" -d "$work/src" --bind 127.0.3.1 --port "$sport" -q >"$work/seed.log" 2>&1 &
pids+=($!)
sleep 1
cat "$work/src/payload.bin" >/dev/null # warm cache

# get_one torrent|magnet: wall seconds of one swarm get.
get_one() {
  local what=$1 arg=$work/p.torrent t0 t1
  [ "$what" = magnet ] && arg="magnet:?xt=urn:btih:$pih&x.pe=127.0.3.1:$sport"
  rm -rf "$work/get" "$work/gcache"; mkdir -p "$work/get" "$work/gcache"
  sync
  t0=$(now)
  "$sw" get -q "$arg" -d "$work/get" --bind 127.0.3.2 --port "$(port)" --peer 127.0.3.1:"$sport" \
    --metadata-cache "$work/gcache" >"$work/get.log" 2>&1
  t1=$(now)
  cmp -s "$work/get/payload.bin" "$work/src/payload.bin" || { echo "download differs" >&2; exit 1; }
  echo "$t1 - $t0" | bc
}
: >"$work/b-torrent"; : >"$work/b-magnet"
for _ in $(seq "$runs"); do
  get_one torrent >>"$work/b-torrent"
  get_one magnet >>"$work/b-magnet"
done
bt=$(median <"$work/b-torrent"); bm=$(median <"$work/b-magnet")
printf "%d MiB: from the .torrent median %.2f s (%s), from the magnet median %.2f s (%s), magnet/torrent %.3f\n" \
  "$size_mib" "$bt" "$(tr '\n' ' ' <"$work/b-torrent" | sed 's/ $//')" "$bm" \
  "$(tr '\n' ' ' <"$work/b-magnet" | sed 's/ $//')" "$(echo "$bm / $bt" | bc -l)"
