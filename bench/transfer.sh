#!/usr/bin/env bash
# Peer transfer benchmark (issues 4, 11, 20), on loopback:
#  (a) one seeder to one leecher: swarm pair vs libtorrent pair; time, leecher peak RSS, CPU
#      (user+system) of the leecher and of the seeder, per GiB;
#  (b) one seeder to N leechers at once: median time per leecher, seeder upload / payload,
#      CPU per process.
# Every peer is a separate process on 127.0.0.1 (one address for all, as behind one NAT),
# behind opentracker by default (TRACKER=swarm uses `swarm tracker`). opentracker lists the
# asking peer in its reply and gives each leecher the peers that announced before it. Each
# run starts a fresh tracker, so no run sees the peers of the one before. libtorrent gets the
# tuned settings of shared/INTEROP-NOTES.md (bench/lt_leech.py --tuned). The payload is
# synced and left to settle before the first run, so that kernel writeback of a freshly
# written file does not compete with the transfers. Runs are interleaved (ours, theirs, ours,
# ...) and the median of RUNS is reported.
# Usage: [TRACKER=opentracker|swarm] [CASES="a b"] bench/transfer.sh [SIZE_MIB=1024] [RUNS=3] [LEECHERS=4]
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
runs=${2:-3}
nleech=${3:-4}
tracker_kind=${TRACKER:-opentracker}
cases=${CASES:-a b}
work=$(mktemp -d /tmp/swarm-transfer.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

go build -o "$work/swarm" ./cmd/swarm
sw=$work/swarm
ltpeer=bench/lt_leech.py
tport=$((20000 + RANDOM % 10000))
announce=http://127.0.0.1:$tport/announce

mkdir -p "$work/src" "$work/ot"
head -c $((size_mib << 20)) /dev/urandom >"$work/src/payload.bin"
"$sw" create "$work/src/payload.bin" -a "$announce" --piece-length 256KiB -o "$work/p.torrent" -q
ih=$("$sw" info "$work/p.torrent" | sed -n 's/.*btih:\([0-9a-f]\{40\}\).*/\1/p' | head -1)
[ ${#ih} -eq 40 ] || { echo "no info-hash from swarm info" >&2; exit 1; }
echo "$ih" >"$work/ot/whitelist"
sync
sleep 5 # let writeback finish before anything is timed
cat "$work/src/payload.bin" >/dev/null # warm cache

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
now() { date +%s.%N; }
cpu_s() { # user+system seconds of a live process
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"
}

start_tracker() {
  case $tracker_kind in
    opentracker) (cd "$work/ot" && exec opentracker -d "$work/ot" -w whitelist -i 127.0.0.1 -p $tport -A 127.0.0.1) \
                   >"$work/tracker.log" 2>&1 & ;;
    swarm) "$sw" tracker --listen 127.0.0.1:$tport --interval 5s >"$work/tracker.log" 2>&1 & ;;
    *) echo "TRACKER must be opentracker or swarm" >&2; exit 2 ;;
  esac
  tracker_pid=$!
  pids+=($tracker_pid)
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$tport/scrape" && return 0; sleep 0.05; done
  echo "tracker never listened" >&2; cat "$work/tracker.log" >&2; exit 1
}

stop_tracker() { kill "$tracker_pid" 2>/dev/null || true; wait "$tracker_pid" 2>/dev/null || true; }

# seeders_known: the tracker's scrape count of seeders for the torrent.
seeders_known() {
  curl -s "http://127.0.0.1:$tport/scrape?info_hash=$(echo "$ih" | sed 's/../%&/g')" |
    grep -ao '8:completei[0-9]*e' | grep -o '[0-9]*' | tail -1
}

# start_seeder KIND: starts a seeder on 127.0.0.1 and waits until the tracker counts it.
start_seeder() {
  local kind=$1 port=$((30000 + RANDOM % 20000))
  case $kind in
    swarm) "$sw" seed --no-dht "$work/p.torrent" -d "$work/src" --bind 127.0.0.1 --port $port -q \
             --stats "$work/seed-stats.json" >"$work/seed.log" 2>&1 & ;;
    lt) /usr/bin/python3 $ltpeer --seed --tuned --torrent "$work/p.torrent" --dir "$work/src" \
          --listen 127.0.0.1:$port >"$work/seed.log" 2>&1 & ;;
  esac
  seed_pid=$!
  pids+=($seed_pid)
  for _ in $(seq 600); do
    [ "$(seeders_known)" -ge 1 ] 2>/dev/null && { seed_cpu0=$(cpu_s $seed_pid); return 0; }
    sleep 0.1
  done
  echo "seeder $kind never registered" >&2; cat "$work/seed.log" >&2; exit 1
}

stop_seeder() { # prints the seeder's CPU seconds spent since it registered
  local c
  c=$(echo "$(cpu_s $seed_pid) - $seed_cpu0" | bc -l)
  kill -TERM "$seed_pid" 2>/dev/null || true
  wait "$seed_pid" 2>/dev/null || true
  echo "$c"
}

# leech KIND N: runs leecher N to completion; prints "seconds peak_rss_kib cpu_seconds".
leech() {
  local kind=$1 n=$2 dir=$work/leech$2 port=$((30000 + RANDOM % 20000)) t0 t1
  rm -rf "$dir"; mkdir -p "$dir"
  t0=$(now)
  case $kind in
    swarm) /usr/bin/time -f "%M %U %S" -o "$dir.res" "$sw" get --no-dht "$work/p.torrent" -d "$dir" \
             --bind 127.0.0.1 --port $port -q >"$dir.log" 2>&1 ;;
    lt) /usr/bin/time -f "%M %U %S" -o "$dir.res" /usr/bin/python3 $ltpeer --tuned \
          --torrent "$work/p.torrent" --dir "$dir" --listen 127.0.0.1:$port >"$dir.log" 2>&1 ;;
  esac
  t1=$(now)
  cmp -s "$dir/payload.bin" "$work/src/payload.bin" || { echo "leecher $kind $n: payload differs" >&2; cat "$dir.log" >&2; exit 1; }
  read -r rss u s < <(tail -1 "$dir.res")
  echo "$(echo "$t1 - $t0" | bc) $rss $(echo "$u + $s" | bc)"
  rm -rf "$dir"
}

seed_uploaded() { # payload bytes the seeder uploaded, after it stopped
  case $1 in
    swarm) grep -o '"uploaded": [0-9]*' "$work/seed-stats.json" | grep -o '[0-9]*$' | head -1 ;;
    lt) sed -n 's/^uploaded \([0-9]*\)$/\1/p' "$work/seed.log" | tail -1 ;;
  esac
}

per_gib() { echo "$1 * 1024 / $size_mib" | bc -l; }

# prime N: write and delete PRIME_MIB (default 2x the payload per leecher, N leechers) of page
# cache, just before a run. On the VM of docs/benchmarks.md, page-cache pages that the hypervisor has
# taken back cost several times more to write into than pages freed a moment ago (the time
# shows up in the guest's copy into the page cache); which ones a leecher gets was luck, and
# it moved either client's time by up to 2x. Priming gives every run, ours and libtorrent's,
# the same start. PRIME=0 turns it off.
prime() { # LEECHERS
  [ "${PRIME:-1}" = 1 ] || return 0
  dd if=/dev/zero of="$work/prime.bin" bs=1M count="${PRIME_MIB:-$((2 * size_mib * $1))}" 2>/dev/null
  rm -f "$work/prime.bin"
}

# pagecache_cost: system CPU-seconds per GiB to write 256 MiB into the page cache (dd), a
# probe of the machine's state. On the 2-core VM of docs/benchmarks.md it is 0.15-0.3 most
# of the time, but in some periods writing into fresh page-cache pages costs 3-4 times as
# much, and every leecher (ours and libtorrent) is slower for it; runs in such a period are
# not comparable with runs outside one.
pagecache_cost() {
  /usr/bin/time -f "%S" -o "$work/dd.time" dd if=/dev/zero of="$work/dd.bin" bs=256k count=1024 2>/dev/null
  rm -f "$work/dd.bin"
  echo "$(tail -1 "$work/dd.time") * 4" | bc -l
}

echo "payload ${size_mib} MiB, 256 KiB pieces, $runs runs, every peer on 127.0.0.1 behind $tracker_kind;" \
  "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%H:%M) UTC"
printf "page-cache write cost (dd, sys CPU-s per GiB): %.2f at the start\n" "$(pagecache_cost)"

if [[ " $cases " == *" a "* ]]; then
  echo
  echo "(a) one seeder, one leecher"
  for kind in swarm lt; do : >"$work/a-$kind"; : >"$work/a-seedcpu-$kind"; done
  for r in $(seq "$runs"); do
    for kind in swarm lt; do
      start_tracker
      start_seeder $kind
      prime 1
      leech $kind 1 >>"$work/a-$kind"
      stop_seeder >>"$work/a-seedcpu-$kind"
      stop_tracker
    done
  done
  for kind in swarm lt; do
    t=$(cut -d' ' -f1 "$work/a-$kind" | median)
    rss=$(cut -d' ' -f2 "$work/a-$kind" | median)
    lc=$(cut -d' ' -f3 "$work/a-$kind" | median)
    sc=$(median <"$work/a-seedcpu-$kind")
    printf "  %-6s median %6.2f s  %5.0f MB/s  leecher RSS %5.0f MiB  CPU/GiB leecher %5.2f s seeder %5.2f s  (times: %s)\n" \
      "$kind" "$t" "$(echo "$size_mib * 1.048576 / $t" | bc -l)" "$(echo "$rss / 1024" | bc -l)" \
      "$(per_gib "$lc")" "$(per_gib "$sc")" "$(cut -d' ' -f1 "$work/a-$kind" | tr '\n' ' ')"
  done
  sa=$(cut -d' ' -f1 "$work/a-swarm" | median); la=$(cut -d' ' -f1 "$work/a-lt" | median)
  printf "  speed ratio swarm/libtorrent: %.2fx\n" "$(echo "$la / $sa" | bc -l)"
  printf "  page-cache write cost after (a): %.2f\n" "$(pagecache_cost)"
fi

if [[ " $cases " == *" b "* ]]; then
  echo
  echo "(b) one seeder, $nleech leechers at once"
  for kind in swarm lt; do : >"$work/b-$kind"; : >"$work/b-up-$kind"; : >"$work/b-seedcpu-$kind"; : >"$work/b-cpu-$kind"; done
  for r in $(seq "$runs"); do
    for kind in swarm lt; do
      start_tracker
      start_seeder $kind
      prime "$nleech"
      lpids=()
      for n in $(seq "$nleech"); do
        leech $kind "$n" >"$work/b-$kind-$n" &
        lpids+=($!)
        sleep 0.2 # announce one after the other: each leecher learns the ones before it
      done
      for p in "${lpids[@]}"; do wait "$p"; done
      for n in $(seq "$nleech"); do
        cut -d' ' -f1 "$work/b-$kind-$n" >>"$work/b-$kind"
        cut -d' ' -f3 "$work/b-$kind-$n" >>"$work/b-cpu-$kind"
      done
      stop_seeder >>"$work/b-seedcpu-$kind"
      stop_tracker
      up=$(echo "$(seed_uploaded $kind) / ($size_mib * 1048576)" | bc -l)
      echo "$up" >>"$work/b-up-$kind"
      printf "  run %d %-6s per leecher %s s, seeder uploaded %.2fx\n" "$r" "$kind" \
        "$(for n in $(seq "$nleech"); do cut -d' ' -f1 "$work/b-$kind-$n"; done | sort -n | tr '\n' ' ')" "$up"
    done
  done
  for kind in swarm lt; do
    printf "  %-6s median per leecher %6.2f s  seeder uploaded %.2fx the payload  CPU/GiB leecher %5.2f s seeder %5.2f s (medians)\n" \
      "$kind" "$(median <"$work/b-$kind")" "$(median <"$work/b-up-$kind")" \
      "$(per_gib "$(median <"$work/b-cpu-$kind")")" "$(per_gib "$(median <"$work/b-seedcpu-$kind")")"
  done
  sb=$(median <"$work/b-swarm"); lb=$(median <"$work/b-lt")
  printf "  per-leecher time swarm/libtorrent: %.2f\n" "$(echo "$sb / $lb" | bc -l)"
  printf "  page-cache write cost after (b): %.2f\n" "$(pagecache_cost)"
fi
