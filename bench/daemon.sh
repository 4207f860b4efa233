#!/usr/bin/env bash
# Daemon benchmark (issue 16), on loopback:
#  (a) N idle seeded torrents in one `swarm daemon`: RSS, idle CPU, API list latency
#      (targets for 1,000: < 256 MiB, < 2% of a core, < 50 ms);
#  (b) a SIZE_MIB download through the daemon vs `swarm get`, from one `swarm seed` through one
#      `swarm tracker`, interleaved (get, daemon, get, daemon, ...), median of RUNS
#      (target: the daemon within 5% of get).
# Usage: bench/daemon.sh [N=1000] [SIZE_MIB=1024 (0 = skip b)] [RUNS=3] [IDLE=60s]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
size_mib=${2:-1024}
runs=${3:-3}
idle=${4:-60s}
work=$(mktemp -d /tmp/swarm-daemon.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

go build -o "$work/swarm" ./cmd/swarm
go build -o "$work/daemonload" ./bench/daemonload
sw=$work/swarm
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# start_daemon DATA: starts a daemon on a free API port; sets dpid and api.
start_daemon() {
  local data=$1 port=$((20000 + RANDOM % 10000))
  "$sw" daemon --data "$data" --listen 127.0.0.1:$port --port 0 --bind 127.0.0.1 --no-dht >"$data.log" 2>&1 &
  dpid=$!
  pids+=($dpid)
  api=http://127.0.0.1:$port
  for _ in $(seq 100); do grep -q 'log in once' "$data.log" 2>/dev/null && return 0; sleep 0.1; done
  echo "daemon did not start" >&2; cat "$data.log" >&2; exit 1
}

echo "== (a) $n idle seeded torrents in one daemon; load: $(cut -d' ' -f1-3 /proc/loadavg)"
mkdir -p "$work/idle"
start_daemon "$work/idle"
mkdir -p "$work/idle/downloads/payload"
"$work/daemonload" idle -url "$api" -token-file "$work/idle/token" -n "$n" -dir "$work/idle/downloads/payload" -pid "$dpid" -idle "$idle"
kill "$dpid"; wait "$dpid" 2>/dev/null || true
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

[ "$size_mib" -gt 0 ] || exit 0
echo "== (b) ${size_mib} MiB: daemon vs swarm get, $runs interleaved runs"
tport=$((20000 + RANDOM % 10000))
"$sw" tracker --listen 127.0.0.1:$tport --interval 5s >"$work/tracker.log" 2>&1 &
pids+=($!)
mkdir -p "$work/src"
head -c $((size_mib << 20)) /dev/urandom >"$work/src/payload.bin"
"$sw" create "$work/src/payload.bin" -a "http://127.0.0.1:$tport/announce" --piece-length 256KiB -o "$work/p.torrent" -q
cat "$work/src/payload.bin" >/dev/null
"$sw" seed --no-dht "$work/p.torrent" -d "$work/src" --bind 127.0.0.2 --port $((30000 + RANDOM % 20000)) -q >"$work/seed.log" 2>&1 &
pids+=($!)
for _ in $(seq 600); do
  curl -s "http://127.0.0.1:$tport/stats?format=json" | grep -q '"complete":[1-9]' && break
  sleep 0.1
done
mkdir -p "$work/dl"
start_daemon "$work/dl"
get_times=() daemon_times=()
for r in $(seq "$runs"); do
  rm -rf "$work/get"; mkdir -p "$work/get"
  t0=$(date +%s.%N)
  "$sw" get --no-dht "$work/p.torrent" -d "$work/get" --bind 127.0.0.3 --port 0 -q >"$work/get.log" 2>&1
  t=$(echo "$(date +%s.%N) - $t0" | bc)
  cmp -s "$work/get/payload.bin" "$work/src/payload.bin" || { echo "get: payload differs" >&2; exit 1; }
  rm -rf "$work/get"
  get_times+=("$t")
  rm -rf "$work/dl/downloads/payload.bin"
  d=$("$work/daemonload" get -url "$api" -token-file "$work/dl/token" -torrent "$work/p.torrent" -dir "$work/dl/downloads")
  cmp -s "$work/dl/downloads/payload.bin" "$work/src/payload.bin" || { echo "daemon: payload differs" >&2; exit 1; }
  rm -f "$work/dl/downloads/payload.bin"
  daemon_times+=("$d")
  echo "run $r: swarm get $t s, daemon $d s (load $(cut -d' ' -f1-3 /proc/loadavg))"
  sleep 1 # the tracker forgets the stopped peers
done
gm=$(printf '%s\n' "${get_times[@]}" | median)
dm=$(printf '%s\n' "${daemon_times[@]}" | median)
echo "median: swarm get $gm s, daemon $dm s, daemon/get = $(echo "scale=3; $dm / $gm" | bc)"
