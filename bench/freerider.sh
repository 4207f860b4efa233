#!/usr/bin/env bash
# Free-rider experiment (issue 5): runs the choke/sim simulation (the real choke.Decide for
# every peer, virtual clock) over 10 seeds per scenario and prints the Markdown tables of
# docs/freerider.md. Deterministic: the same commit prints the same tables.
set -euo pipefail
cd "$(dirname "$0")/.."
SWARM_FREERIDER_REPORT=1 go test ./choke/sim -run 'TestFreeRiderReport$' -count=1 -v |
  sed -n '/^    report_test.go/,/^--- /p' | sed -e '1d' -e '$d' -e 's/^        //'
