#!/usr/bin/env bash
# DHT figures (issue 13): a 256-node DHT of real UDP sockets on 127.0.0.1 in one process
# (dht/bench_test.go), on one core (-cpu 1, GOMAXPROCS=1):
#   - time for a new node, bootstrapped from one node, to find a seeder announced by another
#     (p50, p99; bootstrap included) and the queries of that lookup;
#   - lookups per second from settled nodes, one after another;
#   - heap per idle node (and goroutine stacks, which are not heap).
# Targets: p50 < 50 ms, p99 < 500 ms, < 64 KiB of heap per idle node.
# Then the in-memory simulation of 1,000 nodes with fake time (dht/sim_test.go), for queries
# per lookup and the lookup time distribution with latency 5-50 ms each way.
#
# Usage: bench/dht.sh        (LOOKUPS=200 iterations of the timed benchmarks)
set -euo pipefail
cd "$(dirname "$0")/.."
LOOKUPS=${LOOKUPS:-200}
go test -run '^$' -bench 'Loopback256(FindSeeder|Lookups)$' -benchtime "${LOOKUPS}x" -cpu 1 -count 1 ./dht/
go test -run '^$' -bench 'Loopback256IdleHeap$' -benchtime 1x -cpu 1 -count 1 ./dht/
go test -run '^TestSimulation1000$' -count 1 -v ./dht/ | grep -E 'sim_test|^(---|ok|FAIL)'
