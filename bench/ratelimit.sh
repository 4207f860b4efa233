#!/usr/bin/env bash
# Rate limit accuracy (issue 5): does `swarm seed --up-rate R` send, and `swarm get --down-rate R`
# receive, at R? Each run pairs the process under test with a libtorrent peer
# (bench/lt_peer.py) on loopback, waits for the first payload byte, then samples byte counters
# every second for WINDOW seconds: libtorrent's own payload counter, and the tested process's
# end of the TCP connection (what it read from or wrote into the socket, from `ss -tin`). The
# reference runs do the same with libtorrent's own upload_rate_limit / download_rate_limit in
# place of swarm, side by side in the same loop.
#
# Usage: bench/ratelimit.sh                 (from anywhere; prints a Markdown table)
#   RATES="1 4"    limits to test, in MiB/s
#   RUNS=3         runs per limit, direction and client
#   WINDOW=20      seconds sampled after the first byte
#   SWARM=path     use this swarm binary instead of building ./cmd/swarm
#   BASE_PORT=21100 (below Linux's ephemeral range, so no outgoing socket holds a port we
#   listen on), JSON=file (append every run's raw JSON there)
set -euo pipefail
cd "$(dirname "$0")/.."
RATES=${RATES:-"1 4"}
RUNS=${RUNS:-3}
WINDOW=${WINDOW:-20}
port=${BASE_PORT:-21100}
PY=/usr/bin/python3
LT_PEER=$PWD/bench/lt_peer.py

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
mkdir -p "$tmp/seed"
# Payload: 32 s at the highest rate, at least 128 MiB, so no transfer ends within the window.
size=128
for mib in $RATES; do size=$((mib * 32 > size ? mib * 32 : size)); done
head -c $((size << 20)) /dev/urandom >"$tmp/seed/payload.bin"
"$tmp/swarm" create "$tmp/seed/payload.bin" -o "$tmp/p.torrent" --piece-length 256KiB -q >&2

# start_bg PIDFILE CMD...: runs CMD in the background, records its PID for cleanup and PIDFILE.
start_bg() {
	local pidfile=$1
	shift
	"$@" >"$pidfile.log" 2>&1 &
	pids+=($!)
	echo $! >"$pidfile"
}

# forget PID: drops an ended process from the cleanup list (its PID may be reused).
forget() {
	local keep=() p
	for p in "${pids[@]}"; do if [[ $p != "$1" ]]; then keep+=("$p"); fi; done
	pids=("${keep[@]}")
}

# stop PIDFILE: ends that process and waits for it.
stop() {
	local p
	p=$(cat "$1")
	kill "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
	forget "$p"
}

# wait_listen PORT: waits up to 30 s for a listening socket on 127.0.0.1:PORT (libtorrent does
# not retry a refused peer soon, so lt_peer must not dial before the tested process listens).
wait_listen() {
	local i
	for i in $(seq 300); do
		if [[ -n $(ss -ltnH "( sport = :$1 )") ]]; then return 0; fi
		sleep 0.1
	done
	echo "nothing listens on port $1" >&2
	return 1
}

# run_one CLIENT DIRECTION MIB RUN: one measurement; appends one JSON line to $tmp/runs.
run_one() {
	local client=$1 dir=$2 mib=$3 run=$4 bps=$(($3 << 20))
	local tp=$((port++)) mp=$((port++)) d="$tmp/dl-$client-$dir-$mib-$run" out
	mkdir -p "$d"
	local label="$client $dir $mib $run"
	case "$client/$dir" in
	swarm/up) start_bg "$tmp/pid" "$tmp/swarm" seed --no-dht "$tmp/p.torrent" -d "$tmp/seed" \
		--bind 127.0.0.1 --port "$tp" --up-rate "${mib}MiB/s" -q ;;
	swarm/down) start_bg "$tmp/pid" "$tmp/swarm" get --no-dht "$tmp/p.torrent" -d "$d" \
		--bind 127.0.0.1 --port "$tp" --down-rate "${mib}MiB/s" -q ;;
	libtorrent/up) start_bg "$tmp/pid" "$PY" "$LT_PEER" serve-seed --torrent "$tmp/p.torrent" \
		--dir "$tmp/seed" --listen "127.0.0.1:$tp" --upload-limit "$bps" --timeout 120 ;;
	libtorrent/down) start_bg "$tmp/pid" "$PY" "$LT_PEER" serve-leech --torrent "$tmp/p.torrent" \
		--dir "$d" --listen "127.0.0.1:$tp" --download-limit "$bps" --timeout 120 ;;
	esac
	local mode=leech mdir=$d
	if [[ $dir == down ]]; then mode=seed mdir=$tmp/seed; fi
	# lt_peer runs in the background and the script waits for it, so that a signal interrupts
	# the wait at once and the EXIT trap ends every process.
	if wait_listen "$tp"; then
		start_bg "$tmp/mpid" timeout 90 "$PY" "$LT_PEER" "$mode" --torrent "$tmp/p.torrent" \
			--dir "$mdir" --listen "127.0.0.1:$mp" --peer "127.0.0.1:$tp" --seconds "$WINDOW" \
			--swarm-port "$tp" --label "$label" --timeout 60
	fi
	local ok=0
	if [[ -f $tmp/mpid ]]; then
		if wait "$(cat "$tmp/mpid")"; then ok=1; fi
		forget "$(cat "$tmp/mpid")"
		rm -f "$tmp/mpid"
	fi
	if ((ok == 0)); then
		echo "run failed: $label; log of the measuring peer, then of the tested process:" >&2
		cat "$tmp/mpid.log" "$tmp/pid.log" >&2 2>/dev/null || true
		stop "$tmp/pid"
		return 1
	fi
	out=$(tail -n 1 "$tmp/mpid.log")
	if ! kill -0 "$(cat "$tmp/pid")" 2>/dev/null; then
		echo "tested process exited during the window: $label" >&2
		cat "$tmp/pid.log" >&2
		stop "$tmp/pid"
		return 1
	fi
	stop "$tmp/pid"
	rm -rf "$d"
	echo "$out" >>"$tmp/runs"
	if [[ -n ${JSON:-} ]]; then echo "$out" >>"$JSON"; fi
}

failed=0
for mib in $RATES; do
	for run in $(seq "$RUNS"); do
		for dir in up down; do
			for client in swarm libtorrent; do
				run_one "$client" "$dir" "$mib" "$run" || failed=$((failed + 1))
			done
		done
	done
done

"$PY" - "$tmp/runs" "$WINDOW" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
window = sys.argv[2]
print('Limit accuracy over %s s after the first payload byte (payload bytes/s; deviation from '
      'the limit; "remote" is the libtorrent peer\'s counter, "socket" what the limited '
      'process itself wrote to or read from its socket):' % window)
print()
print('Rates in MiB/s. "1st s" is the socket rate in the first second (the limiter\'s burst and '
      'filling socket buffers show there); min-max are over the per-second rates.')
print()
print('| limit | direction | client | run | socket avg | socket dev | 1st s | socket min-max '
      '| remote avg | remote dev | remote min-max | 1st byte after |')
print('|---|---|---|---|---|---|---|---|---|---|---|---|')
mib = 1 << 20
def dev(x, lim): return '%+.1f%%' % (100 * (x / lim - 1))
def rate(x): return '%.3f' % (x / mib)
groups = {}
for r in runs:
    client, d, m, run = r['label'].split()
    lim = int(m) * mib
    s, l = r['sock'], r['lt']
    groups.setdefault((m, d, client), []).append((s['avg'] / lim - 1, l['avg'] / lim - 1))
    print('| %s MiB/s | %s | %s | %s | %s | %s | %s | %s-%s | %s | %s | %s-%s | %.2f s |' % (
        m, d, client, run, rate(s['avg']), dev(s['avg'], lim), rate(s['per_second'][0]),
        rate(s['min']), rate(s['max']),
        rate(l['avg']), dev(l['avg'], lim), rate(l['min']), rate(l['max']),
        r['first_byte_after']))
print()
print('Median deviation over the runs (socket / remote):')
print()
print('| limit | direction | swarm | libtorrent |')
print('|---|---|---|---|')
keys = sorted({(m, d) for m, d, _ in groups}, key=lambda k: (int(k[0]), k[1] != 'up'))
for m, d in keys:
    cells = []
    for client in ('swarm', 'libtorrent'):
        g = groups.get((m, d, client), [])
        if not g:
            cells.append('-')
            continue
        cells.append('%+.1f%% / %+.1f%%' % (100 * statistics.median(x[0] for x in g),
                                          100 * statistics.median(x[1] for x in g)))
    print('| %s MiB/s | %s | %s | %s |' % (m, d, cells[0], cells[1]))
PY
if ((failed > 0)); then
	echo "$failed run(s) failed, see above" >&2
	exit 1
fi
