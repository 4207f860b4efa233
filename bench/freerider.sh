#!/usr/bin/env bash
# Free-rider experiment (issue 5): runs the choke/sim simulation (the real choke.Decide for
# every peer, virtual clock) over 10 seeds per scenario and prints the Markdown tables of
# docs/freerider.md: the flash crowd (baseline, control, variants), then the steady streams
# (per seed with about 8, 12 and 16 contributors present, and their variants). About a
# minute of CPU on one core. Deterministic: the same commit prints the same tables.
# The same experiments on the real engine (fake time, not deterministic):
#   SWARM_EXPERIMENT=1 go test -run TestFreeRiderExperiment -v ./peer/
#   SWARM_EXPERIMENT=1 SWARM_EXPERIMENT_RUNS=5 go test -timeout 30m -run TestFreeRiderStreamExperiment -v ./peer/
set -euo pipefail
cd "$(dirname "$0")/.."
SWARM_FREERIDER_REPORT=1 go test ./choke/sim -run 'TestFreeRiderReport$' -count=1 -v |
  sed -n '/^    report_test.go/,/^--- /p' | sed -e '1d' -e '$d' -e 's/^        //'
