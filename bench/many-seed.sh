#!/usr/bin/env bash
# Many torrents in one process (issue 11): `swarm seed` with N small torrents (1 MiB each) on
# one port, announcing to a local swarm tracker, nobody connecting. Reports the resident
# memory once every torrent runs (VmRSS, and the peak VmHWM) and the CPU the idle process
# uses over WINDOW seconds (utime+stime from /proc, in % of one core). Targets: RSS under
# 64 MiB and idle CPU under 1% of a core with 100 torrents.
#
# Usage: bench/many-seed.sh                 (from anywhere; prints a Markdown table row per run)
#   N=100          torrents
#   SIZE_KIB=1024  size of each torrent's file
#   RUNS=3         runs
#   WINDOW=30      idle seconds sampled per run
#   SWARM=path     use this swarm binary instead of building ./cmd/swarm
#   PORT=21300     peer port (the tracker takes PORT+1)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100}
SIZE_KIB=${SIZE_KIB:-1024}
RUNS=${RUNS:-3}
WINDOW=${WINDOW:-30}
PORT=${PORT:-21300}
TRACKER=127.0.0.1:$((PORT + 1))

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -n ${SWARM:-} ]]; then
	cp "$SWARM" "$tmp/swarm"
else
	go build -o "$tmp/swarm" ./cmd/swarm
fi
mkdir -p "$tmp/data" "$tmp/torrents"
for i in $(seq -w 1 "$N"); do
	head -c $((SIZE_KIB << 10)) /dev/urandom >"$tmp/data/file$i.bin"
	"$tmp/swarm" create "$tmp/data/file$i.bin" -a "http://$TRACKER/announce" -q \
		-o "$tmp/torrents/file$i.torrent" >/dev/null
done

"$tmp/swarm" tracker --listen "$TRACKER" --udp off >"$tmp/tracker.log" 2>&1 &
pids+=($!)

ticks=$(getconf CLK_TCK)
# cpu_ticks PID: user+system CPU ticks of the process so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# status_kib PID FIELD: a /proc/PID/status field in KiB.
status_kib() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }

echo "| run | torrents | RSS MiB | peak RSS MiB | idle CPU % of a core (${WINDOW} s) |"
echo "| --- | --- | --- | --- | --- |"
for run in $(seq 1 "$RUNS"); do
	"$tmp/swarm" --log-level info seed --no-dht "$tmp"/torrents/*.torrent -d "$tmp/data" -q \
		--bind 127.0.0.1 --port "$PORT" >"$tmp/seed.log" 2>&1 &
	pid=$!
	pids+=($pid)
	# Wait until every swarm has started and announced (the checks are done by then).
	for _ in $(seq 1 600); do
		n=$(grep -c 'msg="swarm started"' "$tmp/seed.log" || true)
		[[ $n -ge $N ]] && break
		sleep 0.1
	done
	if [[ $n -lt $N ]]; then
		echo "only $n of $N torrents started" >&2
		tail "$tmp/seed.log" >&2
		exit 1
	fi
	sleep 5 # the started announces and their replies settle
	c0=$(cpu_ticks "$pid")
	t0=$(date +%s.%N)
	sleep "$WINDOW"
	c1=$(cpu_ticks "$pid")
	t1=$(date +%s.%N)
	rss=$(status_kib "$pid" VmRSS)
	hwm=$(status_kib "$pid" VmHWM)
	cpu=$(awk -v c="$((c1 - c0))" -v hz="$ticks" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", 100 * c / hz / (b - a)}')
	printf "| %d | %d | %.1f | %.1f | %s |\n" "$run" "$N" "$(echo "$rss / 1024" | bc -l)" "$(echo "$hwm / 1024" | bc -l)" "$cpu"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
done
