#!/usr/bin/env bash
# What this machine's kernel I/O paths cost, in CPU-seconds per GiB (docs/engine.md, issue 20):
# ways a seed can read and send blocks over loopback, and a leecher's piece writes into the
# page cache, each ROUNDS times, interleaved. Payload synced and cached first.
# Usage: bench/iocost.sh [SIZE_MIB=1024] [ROUNDS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
rounds=${2:-3}
work=$(mktemp -d /tmp/swarm-iocost.XXXXXX)
trap 'rm -rf "$work"' EXIT
go build -o "$work/iocost" ./bench/iocost
head -c $((size_mib << 20)) /dev/urandom >"$work/payload"
sync
sleep 3
cat "$work/payload" >/dev/null
echo "payload ${size_mib} MiB, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
  for mode in pread preadv16 sendfile mmap mem; do
    port=$((30000 + RANDOM % 20000))
    "$work/iocost" recv 127.0.7.1:$port &
    rpid=$!
    for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.7.1/$port) 2>/dev/null && break; sleep 0.05; done
    # the probe above was the listener's one connection: start again for the real one
    wait $rpid 2>/dev/null || true
    "$work/iocost" recv 127.0.7.1:$port &
    rpid=$!
    sleep 0.2
    "$work/iocost" send $mode "$work/payload" 127.0.7.1:$port
    wait $rpid
  done
  for mode in pwrite pwritev; do
    sync
    sleep 2
    "$work/iocost" write $mode "$work/out" "$size_mib"
  done
done
