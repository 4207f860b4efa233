#!/usr/bin/env bash
# Encrypted transfer benchmark (issue 17): one seeder to one leecher on loopback through one
# `swarm tracker`, plain against MSE/RC4, swarm pair against libtorrent pair, side by side.
#   swarm plain: both --encryption off        swarm rc4: both --encryption require
#   lt plain:    MSE disabled both ways       lt rc4:    MSE forced, RC4 only, both ways
# Runs are interleaved (swarm plain, swarm rc4, lt plain, lt rc4, swarm plain, ...) and the
# median of RUNS is reported: the leecher's wall time (process start to exit, as in
# bench/transfer.sh), its CPU (user+sys, /usr/bin/time) and the seeder's CPU during the
# transfer (from /proc/PID/stat, read when the leecher starts and when it ends, so the
# seeder's own start-up check is left out). RC4's cost is the CPU difference rc4 - plain.
# Usage: bench/encrypted.sh [SIZE_MIB=1024] [RUNS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
runs=${2:-3}
work=$(mktemp -d /tmp/swarm-encrypted.XXXXXX)
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
ih=$("$sw" info --json "$work/p.torrent" | grep -o '"info_hash": *"[0-9a-f]*"' | grep -o '[0-9a-f]\{40\}')
# The tracker's scrape counts seeders at once (its /stats listing is cached for 30 s).
scrape="http://127.0.0.1:$tport/scrape?info_hash=$(echo "$ih" | sed 's/../%&/g')"
cat "$work/src/payload.bin" >/dev/null # warm cache

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
now() { date +%s.%N; }
tck=$(getconf CLK_TCK)
# cpu PID: user+sys seconds of a running process (all its threads).
cpu() { awk -v t="$tck" '{print ($14 + $15) / t}' "/proc/$1/stat"; }

# start_seeder KIND MODE: seeder on 127.0.0.2; waits until the tracker lists it.
start_seeder() {
  local kind=$1 mode=$2 port=$((30000 + RANDOM % 20000)) enc
  case $kind in
    swarm) enc=off; [ "$mode" = rc4 ] && enc=require
           "$sw" seed --no-dht "$work/p.torrent" -d "$work/src" --bind 127.0.0.2 --port $port -q \
             --encryption $enc >"$work/seed.log" 2>&1 & ;;
    lt) enc=off; [ "$mode" = rc4 ] && enc=require
        /usr/bin/python3 $lt seed --torrent "$work/p.torrent" --dir "$work/src" \
          --listen 127.0.0.2:$port --reannounce 2 --encryption $enc >"$work/seed.log" 2>&1 & ;;
  esac
  seed_pid=$!
  pids+=($seed_pid)
  for _ in $(seq 600); do
    curl -s "$scrape" | grep -q 'completei[1-9]' && return 0
    sleep 0.1
  done
  echo "seeder $kind $mode never registered" >&2; cat "$work/seed.log" >&2; exit 1
}

stop_seeder() {
  kill -TERM "$seed_pid" 2>/dev/null || true
  wait "$seed_pid" 2>/dev/null || true
  sleep 0.5 # let the tracker forget it (stopped) before the next run
}

# leech KIND MODE: runs a leecher to completion; prints "seconds leecher_cpu seeder_cpu".
leech() {
  local kind=$1 mode=$2 dir=$work/leech port=$((30000 + RANDOM % 20000)) t0 t1 s0 s1 enc
  rm -rf "$dir"; mkdir -p "$dir"
  enc=off; [ "$mode" = rc4 ] && enc=require
  s0=$(cpu "$seed_pid")
  t0=$(now)
  case $kind in
    swarm) /usr/bin/time -f "%U %S" -o "$dir.cpu" "$sw" get --no-dht "$work/p.torrent" -d "$dir" \
             --bind 127.0.0.11 --port $port -q --encryption $enc >"$dir.log" 2>&1 ;;
    lt) /usr/bin/time -f "%U %S" -o "$dir.cpu" /usr/bin/python3 bench/lt_leech.py \
          --torrent "$work/p.torrent" --dir "$dir" --listen 127.0.0.11:$port \
          --encryption $enc >"$dir.log" 2>&1 ;;
  esac
  t1=$(now)
  s1=$(cpu "$seed_pid")
  cmp -s "$dir/payload.bin" "$work/src/payload.bin" || { echo "leecher $kind $mode: payload differs" >&2; exit 1; }
  echo "$(echo "$t1 - $t0" | bc) $(tail -1 "$dir.cpu" | awk '{print $1 + $2}') $(echo "$s1 - $s0" | bc)"
  rm -rf "$dir"
}

cases="swarm:plain swarm:rc4 lt:plain lt:rc4"
echo "payload ${size_mib} MiB, 256 KiB pieces, $runs runs, loopback; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for c in $cases; do : >"$work/r-${c/:/-}"; done
for r in $(seq "$runs"); do
  for c in $cases; do
    start_seeder "${c%:*}" "${c#*:}"
    leech "${c%:*}" "${c#*:}" >>"$work/r-${c/:/-}"
    stop_seeder
  done
done
printf "  %-12s %9s %9s %12s %12s   %s\n" case time MB/s "leech CPU-s" "seed CPU-s" "runs (s)"
for c in $cases; do
  f=$work/r-${c/:/-}
  t=$(cut -d' ' -f1 "$f" | median)
  printf "  %-12s %8.2fs %9.0f %12.2f %12.2f   %s\n" "$c" "$t" "$(echo "$size_mib * 1.048576 / $t" | bc -l)" \
    "$(cut -d' ' -f2 "$f" | median)" "$(cut -d' ' -f3 "$f" | median)" "$(cut -d' ' -f1 "$f" | tr '\n' ' ')"
done
for k in swarm lt; do
  dl=$(echo "$(cut -d' ' -f2 "$work/r-$k-rc4" | median) - $(cut -d' ' -f2 "$work/r-$k-plain" | median)" | bc -l)
  ds=$(echo "$(cut -d' ' -f3 "$work/r-$k-rc4" | median) - $(cut -d' ' -f3 "$work/r-$k-plain" | median)" | bc -l)
  printf "  %-6s RC4 cost per GiB: leecher %+.2f CPU-s, seeder %+.2f CPU-s\n" "$k" \
    "$(echo "$dl * 1024 / $size_mib" | bc -l)" "$(echo "$ds * 1024 / $size_mib" | bc -l)"
done
sr=$(cut -d' ' -f1 "$work/r-swarm-rc4" | median); lr=$(cut -d' ' -f1 "$work/r-lt-rc4" | median)
printf "  encrypted speed ratio swarm/libtorrent: %.2f\n" "$(echo "$lr / $sr" | bc -l)"
