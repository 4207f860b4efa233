#!/usr/bin/env bash
# Peer transfer benchmark (issue 4): on loopback, through one `swarm tracker`,
#  (a) one seeder to one leecher: swarm pair vs libtorrent pair, time and leecher peak RSS;
#  (b) one seeder to N leechers at once: median time per leecher and seeder upload / payload.
# Runs are interleaved (ours, theirs, ours, ...) and the median of RUNS is reported.
# Usage: bench/transfer.sh [SIZE_MIB=1024] [RUNS=3] [LEECHERS=4]
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
runs=${2:-3}
nleech=${3:-4}
work=$(mktemp -d /tmp/swarm-transfer.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

go build -o "$work/swarm" ./cmd/swarm
sw=$work/swarm
lt=interop/lt.py
tport=$((20000 + RANDOM % 10000))
"$sw" tracker --listen 127.0.0.1:$tport --interval 5s >"$work/tracker.log" 2>&1 &
pids+=($!)
announce=http://127.0.0.1:$tport/announce

mkdir -p "$work/src"
head -c $((size_mib << 20)) /dev/urandom >"$work/src/payload.bin"
"$sw" create "$work/src/payload.bin" -a "$announce" --piece-length 256KiB -o "$work/p.torrent" -q
cat "$work/src/payload.bin" >/dev/null # warm cache

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
now() { date +%s.%N; }

# start_seeder KIND: starts a seeder on 127.0.0.2 and waits until the tracker lists it.
start_seeder() {
  local kind=$1 port=$((30000 + RANDOM % 20000))
  case $kind in
    swarm) "$sw" seed --no-dht "$work/p.torrent" -d "$work/src" --bind 127.0.0.2 --port $port -q \
             --stats "$work/seed-stats.json" >"$work/seed.log" 2>&1 & ;;
    lt) /usr/bin/python3 $lt seed --torrent "$work/p.torrent" --dir "$work/src" \
          --listen 127.0.0.2:$port --reannounce 2 >"$work/seed.log" 2>&1 & ;;
  esac
  seed_pid=$!
  pids+=($seed_pid)
  for _ in $(seq 600); do
    curl -s "http://127.0.0.1:$tport/stats?format=json" | grep -q '"complete":[1-9]' && return 0
    sleep 0.1
  done
  echo "seeder $kind never registered" >&2; cat "$work/seed.log" >&2; exit 1
}

stop_seeder() {
  kill -TERM "$seed_pid" 2>/dev/null || true
  wait "$seed_pid" 2>/dev/null || true
  sleep 0.5 # let the tracker forget it (stopped) before the next run
}

# leech KIND N: runs leecher N to completion; prints "seconds peak_rss_kib".
leech() {
  local kind=$1 n=$2 dir=$work/leech$2 port=$((30000 + RANDOM % 20000)) t0 t1
  rm -rf "$dir"; mkdir -p "$dir"
  t0=$(now)
  case $kind in
    swarm) /usr/bin/time -f "%M" -o "$dir.rss" "$sw" get --no-dht "$work/p.torrent" -d "$dir" \
             --bind 127.0.0.$((10 + n)) --port $port -q >"$dir.log" 2>&1 ;;
    lt) /usr/bin/time -f "%M" -o "$dir.rss" /usr/bin/python3 bench/lt_leech.py \
          --torrent "$work/p.torrent" --dir "$dir" --listen 127.0.0.$((10 + n)):$port >"$dir.log" 2>&1 ;;
  esac
  t1=$(now)
  cmp -s "$dir/payload.bin" "$work/src/payload.bin" || { echo "leecher $kind $n: payload differs" >&2; exit 1; }
  echo "$(echo "$t1 - $t0" | bc) $(tail -1 "$dir.rss")"
  rm -rf "$dir"
}

seed_uploaded() { # bytes the seeder uploaded, after it stopped
  case $1 in
    swarm) grep -o '"uploaded": [0-9]*' "$work/seed-stats.json" | grep -o '[0-9]*$' ;;
    lt) grep -o 'up [0-9]*' "$work/seed.log" | tail -1 | grep -o '[0-9]*$' ;;
  esac
}

echo "payload ${size_mib} MiB, 256 KiB pieces, $runs runs, loopback; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "(a) one seeder, one leecher"
for kind in swarm lt; do : >"$work/a-$kind"; done
for r in $(seq "$runs"); do
  for kind in swarm lt; do
    start_seeder $kind
    leech $kind 1 >>"$work/a-$kind"
    stop_seeder
  done
done
for kind in swarm lt; do
  t=$(cut -d' ' -f1 "$work/a-$kind" | median)
  rss=$(cut -d' ' -f2 "$work/a-$kind" | median)
  printf "  %-6s median %6.2f s  %6.0f MB/s  leecher peak RSS %5.0f MiB  (runs: %s)\n" "$kind" "$t" \
    "$(echo "$size_mib * 1.048576 / $t" | bc -l)" "$(echo "$rss / 1024" | bc -l)" "$(cut -d' ' -f1 "$work/a-$kind" | tr '\n' ' ')"
done
sa=$(cut -d' ' -f1 "$work/a-swarm" | median); la=$(cut -d' ' -f1 "$work/a-lt" | median)
printf "  speed ratio swarm/libtorrent: %.2f\n" "$(echo "$la / $sa" | bc -l)"

echo
echo "(b) one seeder, $nleech leechers at once"
for kind in swarm lt; do : >"$work/b-$kind"; : >"$work/b-up-$kind"; done
for r in $(seq "$runs"); do
  for kind in swarm lt; do
    start_seeder $kind
    lpids=()
    for n in $(seq "$nleech"); do leech $kind "$n" >"$work/b-$kind-$n" & lpids+=($!); done
    for p in "${lpids[@]}"; do wait "$p"; done
    for n in $(seq "$nleech"); do cut -d' ' -f1 "$work/b-$kind-$n" >>"$work/b-$kind"; done
    stop_seeder
    echo "$(seed_uploaded $kind) / ($size_mib * 1048576)" | bc -l >>"$work/b-up-$kind"
  done
done
for kind in swarm lt; do
  printf "  %-6s median per leecher %6.2f s  seeder uploaded %.2fx the payload (median)\n" "$kind" \
    "$(median <"$work/b-$kind")" "$(median <"$work/b-up-$kind")"
done
