#!/usr/bin/env bash
# UDP tracker load benchmark (BEP 15): `swarm tracker` and opentracker's UDP port side by side
# in one run, on loopback, with our load generator (bench/udpload: connect/announce/scrape
# 50/50/1, random peers, one socket per source address in 127.0.0.0/8). opentracker
# (Debian's whitelist build) gets the generator's info-hashes as its whitelist; swarm runs
# with its per-address limits off, as opentracker has none.
#
# Usage: bench/udp-load.sh [duration, default 10s] [rounds, default 2] [hashes, default 1024]
# The tracker under test runs on core 0 (swarm with GOMAXPROCS=1, like single-threaded
# opentracker) and the load on core 1 (taskset). Rounds alternate swarm, opentracker, swarm,
# ... so that load from other processes on the machine falls on both. Besides responses/s
# and latency it prints each tracker's CPU time per response, which does not depend on how
# busy the rest of the machine is, and its RSS at the end of the round. NICE=-10 (as root)
# runs both trackers and the generator at that niceness, so that other work on a shared
# machine takes less of their cores.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10s}
ROUNDS=${2:-2}
HASHES=${3:-1024}
SOURCES=${SOURCES:-32}
WINDOW=${WINDOW:-4}
for tool in opentracker taskset; do
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
go build -o "$T/udpload" ./bench/udpload
mkdir -p "$T/ot"
"$T/udpload" -hashes "$HASHES" -whitelist "$T/ot/whitelist"

SWARM_PORT=16979 OT_PORT=16980
PRIO=()
if [ -n "${NICE:-}" ]; then PRIO=(nice -n "$NICE"); fi
GOMAXPROCS=1 "${PRIO[@]}" taskset -c 0 "$T/swarm" tracker --listen 127.0.0.1:$SWARM_PORT --rate 0 \
  --new-swarms-per-minute 0 --max-swarms 0 --log-level error >"$T/swarm.log" 2>&1 &
PIDS+=($!)
# -w is relative to the -d folder opentracker chroots into. -P alone: UDP only.
"${PRIO[@]}" taskset -c 0 opentracker -i 127.0.0.1 -P $OT_PORT -d "$T/ot" -w whitelist >"$T/ot.log" 2>&1 &
PIDS+=($!)
sleep 1

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
bench() { # name port pid
  local before out n
  before=$(ticks "$3")
  out=$("${PRIO[@]}" taskset -c 1 "$T/udpload" -target 127.0.0.1:"$2" -duration "$DUR" -warmup 2s \
    -hashes "$HASHES" -sources "$SOURCES" -window "$WINDOW" -pid "$3" -label "$1")
  echo "$out"
  n=$(echo "$out" | awk '/responses\/s/ {gsub(/[(,]/, " "); for (i = 1; i <= NF; i++) if ($i == "connect" || $i == "announce" || $i == "scrape") s += $(i+1)} END {print s}')
  # ticks cover warm-up and measured time; scale by the measured share of requests.
  python3 -c "import sys; t=$(( $(ticks "$3") - before ))/$(getconf CLK_TCK); d=float('${DUR%s}'); print('$1: tracker CPU %.2f us per response (%.1f s CPU over %.0f s)' % (t/(d+2)*d*1e6/$n, t, d+2))"
}
for r in $(seq "$ROUNDS"); do
  bench "swarm-$r" $SWARM_PORT "${PIDS[0]}"
  bench "opentracker-$r" $OT_PORT "${PIDS[1]}"
done
