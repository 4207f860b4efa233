#!/usr/bin/env bash
# Redis store benchmark (issue 15), side by side in one run, on loopback, with wrk and the
# announce mix of bench/tracker-load.sh (random peers over 1,024 info-hashes, half seeders,
# numwant=50, compact):
#   memory   one `swarm tracker` with the in-memory store (wrk -t2 -c64)
#   redis    one `swarm tracker --store redis://...` (wrk -t2 -c64)
#   redis x2 two trackers on 127.0.0.2 and 127.0.0.3 over the same Redis, one wrk each
#            (-t1 -c32, together the same 64 connections), announces/s summed
# then Redis memory per stored peer at 1,000,000 peers (go test -bench RedisBytesPerPeer).
#
# Usage: bench/tracker-redis.sh [duration, default 15s] [rounds, default 1]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-15s}
ROUNDS=${2:-1}
for tool in wrk redis-server redis-cli curl python3; do
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

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
RPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$T" --logfile "$T/redis.log" &
PIDS+=($!)
for _ in $(seq 50); do redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

MEM=127.0.0.1:$(free_port) R1=127.0.0.2:$(free_port) R2=127.0.0.3:$(free_port)
common=(--rate 0 --new-swarms-per-minute 0 --udp off --log-level error)
"$T/swarm" tracker --listen "$MEM" "${common[@]}" >"$T/mem.log" 2>&1 &
PIDS+=($!)
"$T/swarm" tracker --listen "$R1" --store "redis://127.0.0.1:$RPORT/0" "${common[@]}" >"$T/r1.log" 2>&1 &
PIDS+=($!)
"$T/swarm" tracker --listen "$R2" --store "redis://127.0.0.1:$RPORT/0" "${common[@]}" >"$T/r2.log" 2>&1 &
PIDS+=($!)

first=$(head -1 "$T/hashes.txt" | sed 's/../%&/g')
probe="/announce?info_hash=$first&peer_id=-PR0001-000000000000&port=1&uploaded=0&downloaded=0&left=1&compact=1"
for addr in $MEM $R1 $R2; do
  for _ in $(seq 50); do
    curl -fs "http://$addr$probe" -o "$T/probe" && break
    sleep 0.1
  done
  if grep -q "failure" "$T/probe"; then
    echo "tracker on $addr refused the probe: $(cat "$T/probe")" >&2
    exit 1
  fi
done

# ticks PID...: user+system CPU time of processes, in clock ticks.
ticks() { local n=0; for p in "$@"; do n=$((n + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $n; }
REDIS_PID=${PIDS[0]} MEM_PID=${PIDS[1]} R1_PID=${PIDS[2]} R2_PID=${PIDS[3]}
load() { # out threads conns addr
  HASHES="$T/hashes.txt" wrk -t"$2" -c"$3" -d"$DUR" --latency -s bench/tracker-announce.lua "http://$4" >"$T/$1.out"
}
# measure NAME PIDS... -- COMMAND: runs COMMAND and records the CPU the PIDS used meanwhile.
measure() {
  local name=$1; shift
  local pids=()
  while [ "$1" != -- ]; do pids+=("$1"); shift; done; shift
  local t0 r0
  t0=$(ticks "${pids[@]}") r0=$(ticks "$REDIS_PID")
  "$@"
  echo "$(( $(ticks "${pids[@]}") - t0 )) $(( $(ticks "$REDIS_PID") - r0 ))" >"$T/$name.ticks"
}
# cpu NAME ANNOUNCES: tracker and Redis CPU microseconds per announce in that run.
cpu() {
  python3 -c "import sys; t,r=map(int,open('$T/$1.ticks').read().split()); n=float('$2'); hz=$(getconf CLK_TCK); print('tracker %.0f us, redis %.0f us CPU/announce' % (t*1e6/hz/n, r*1e6/hz/n))"
}
count() { awk '/requests in/ {print $1}' "$T/$1.out"; }
rps() { awk '/^Requests\/sec/ {print $2}' "$T/$1.out"; }
p99() { awk '$1 == "99%" {print $2}' "$T/$1.out"; }
errs() { awk '/Non-2xx|Socket errors/ {print}' "$T/$1.out" | tr '\n' ' '; }
fails() { # failure replies seen by a probe right after a run
  curl -fs "http://$1$probe" | grep -c failure || true
}
for r in $(seq "$ROUNDS"); do
  echo "== round $r"
  measure "mem-$r" "$MEM_PID" -- load "mem-$r" 2 64 "$MEM"
  measure "redis-$r" "$R1_PID" -- load "redis-$r" 2 64 "$R1"
  two() { load "r1-$r" 1 32 "$R1" & local w1=$!; load "r2-$r" 1 32 "$R2" & local w2=$!; wait $w1 $w2; }
  measure "two-$r" "$R1_PID" "$R2_PID" -- two
  two=$(python3 -c "print('%.0f' % ($(rps r1-$r) + $(rps r2-$r)))")
  echo "memory:    $(rps mem-$r) announces/s, p99 $(p99 mem-$r), $(cpu mem-$r "$(count mem-$r)") $(errs mem-$r)"
  echo "redis:     $(rps redis-$r) announces/s, p99 $(p99 redis-$r), $(cpu redis-$r "$(count redis-$r)") $(errs redis-$r)"
  echo "redis x2:  $two announces/s ($(rps r1-$r) + $(rps r2-$r)), p99 $(p99 r1-$r) / $(p99 r2-$r), $(cpu two-$r "$(( $(count r1-$r) + $(count r2-$r) ))") $(errs r1-$r)$(errs r2-$r)"
  python3 -c "m,r,t=$(rps mem-$r),$(rps redis-$r),$two; print('ratios: redis/memory %.2fx (target >= 0.4x), two/one on redis %.2fx (target >= 1.5x)' % (r/m, t/r))"
done
echo "failure replies to a probe after the runs: $(fails "$R1") (0 expected)"
echo "redis: $(redis-cli -p "$RPORT" dbsize) keys, used_memory $(redis-cli -p "$RPORT" info memory | awk -F: '/^used_memory_human/ {print $2}' | tr -d '\r')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores shared with other work; figures are indicative)"
[ "${SKIP_MEMORY:-0}" = 1 ] && exit 0
echo
echo "== Redis memory per stored peer (1,000,000 peers)"
go test -run x -bench RedisBytesPerPeer -benchtime 1x ./tracker/redisstore/ | grep -E 'Benchmark|ok'
