#!/usr/bin/env bash
# Tracker load benchmark: `swarm tracker` and opentracker side by side in one run, on
# loopback, with wrk (2 threads, 64 connections, 20 s each) announcing random peer ids over
# 1,024 info-hashes (bench/tracker-announce.lua). opentracker (Debian's whitelist build) gets
# the same 1,024 hashes as its whitelist. Prints requests/s, p99 latency and the ratio.
#
# Usage: bench/tracker-load.sh [duration, default 20s] [rounds, default 1]
# PIN=1 gives each tracker core 0 (swarm with GOMAXPROCS=1, like single-threaded opentracker)
# and wrk core 1, so the load generator never queues the server behind itself.
# With rounds > 1 the two trackers alternate (swarm, opentracker, swarm, ...) so that load
# from other processes on the machine falls on both; the summary shows every round.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-20s}
ROUNDS=${2:-1}
for tool in wrk opentracker curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done

T=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT

go build -o "$T/swarm" ./cmd/swarm
python3 -c 'import os; print("\n".join(os.urandom(20).hex() for _ in range(1024)))' >"$T/hashes.txt"
mkdir -p "$T/ot"
cp "$T/hashes.txt" "$T/ot/whitelist"

SWARM_PORT=16969 OT_PORT=16970
SERVER_PIN=() WRK_PIN=()
if [ "${PIN:-0}" = 1 ]; then
  SERVER_PIN=(taskset -c 0) WRK_PIN=(taskset -c 1)
  export GOMAXPROCS=1
fi
"${SERVER_PIN[@]}" "$T/swarm" tracker --listen 127.0.0.1:$SWARM_PORT --rate 0 --new-swarms-per-minute 0 --log-level error >"$T/swarm.log" 2>&1 &
PIDS+=($!)
# -w is relative to the -d folder opentracker chroots into.
"${SERVER_PIN[@]}" opentracker -i 127.0.0.1 -p $OT_PORT -P $OT_PORT -d "$T/ot" -w whitelist >"$T/ot.log" 2>&1 &
PIDS+=($!)

first=$(head -1 "$T/hashes.txt" | sed 's/../%&/g')
probe="/announce?info_hash=$first&peer_id=-PR0001-000000000000&port=1&uploaded=0&downloaded=0&left=1&compact=1"
for port in $SWARM_PORT $OT_PORT; do
  for _ in $(seq 50); do
    curl -fs "http://127.0.0.1:$port$probe" -o "$T/probe" && break
    sleep 0.1
  done
  if grep -q "failure" "$T/probe"; then
    echo "tracker on $port refused the probe: $(cat "$T/probe")" >&2
    exit 1
  fi
done

# ticks PID: user+system CPU time of a process, in clock ticks.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
bench() { # name port pid
  echo "== $1"
  local before
  before=$(ticks "$3")
  HASHES="$T/hashes.txt" "${WRK_PIN[@]}" wrk -t2 -c64 -d"$DUR" --latency -s bench/tracker-announce.lua \
    "http://127.0.0.1:$2" | tee "$T/$1.out"
  # Server CPU per announce does not depend on how busy the rest of the machine is.
  echo "$(( $(ticks "$3") - before ))" >"$T/$1.ticks"
}
# cpu_us NAME: server CPU microseconds per announce in that run.
cpu_us() {
  local n
  n=$(awk '/requests in/ {print $1}' "$T/$1.out")
  python3 -c "print('%.1f' % ($(cat "$T/$1.ticks") * 1e6 / $(getconf CLK_TCK) / $n))"
}
for r in $(seq "$ROUNDS"); do
  bench "swarm-$r" $SWARM_PORT "${PIDS[0]}"
  bench "opentracker-$r" $OT_PORT "${PIDS[1]}"
done

rps() { awk '/^Requests\/sec/ {print $2}' "$T/$1.out"; }
p99() { awk '$1 == "99%" {print $2}' "$T/$1.out"; }
rss=$(awk '/VmRSS/ {print $2, $3}' "/proc/${PIDS[0]}/status")
peers=$(curl -fs "http://127.0.0.1:$SWARM_PORT/stats?format=json" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["peers"], "peers in", d["swarms"], "swarms")')
echo
for r in $(seq "$ROUNDS"); do
  echo "round $r: swarm tracker $(rps swarm-$r) announces/s, p99 $(p99 swarm-$r), $(cpu_us swarm-$r) us CPU/announce;" \
    "opentracker $(rps opentracker-$r) announces/s, p99 $(p99 opentracker-$r), $(cpu_us opentracker-$r) us CPU/announce;" \
    "ratio $(python3 -c "print('%.2fx' % ($(rps swarm-$r)/$(rps opentracker-$r)))")"
done
echo "swarm tracker RSS $rss holding $peers"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores shared with other work; figures are indicative)"
