#!/usr/bin/env bash
# Per-stage CPU budget of the engine (issue 20): one `swarm seed` to one `swarm get` of SIZE_MIB
# on loopback (no tracker, --peer), payload synced and in the page cache, both processes under
# `perf record`. Prints, for the leecher and the seeder, CPU-seconds per GiB in all (user+sys
# from /proc) and the share of each stage, from the samples' symbols:
#   sha1      SHA-1 of pieces (crypto/sha1)
#   rc4       RC4 of MSE-encrypted connections (crypto/rc4)
#   copy      kernel copies between user memory and the page cache or socket buffers
#   net       the rest of the kernel's TCP path (tcp_*, skb, ip_*, softirq receive)
#   disk      the rest of the file path (ext4, page cache, folios)
#   syscall   system call entry and exit, fd lookups
#   sched     scheduling and wake-ups, in the kernel and in the Go runtime
#   vmirq     pvm_irq_enable: this VM's paravirtualised interrupt enable, where the time of
#             interrupts held back is charged to whatever kernel path re-enables them (page
#             allocation for the page cache, socket locks, wake-ups); not ours to cut directly
#   gc        Go garbage collection and allocation
#   engine    our code (github.com/swarm-bt/swarm/...)
#   memmove   copies in user space (runtime.memmove: bufio, block buffers)
#   other     everything else (memmove in user space, bufio, runtime misc.)
# Usage: [VERBOSE=1] [KEEP=DIR] [PRIME=0] bench/engine-profile.sh [SIZE_MIB=1024]
# (VERBOSE lists the largest symbols in other; KEEP copies both perf files and the binary to DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
work=$(mktemp -d /tmp/swarm-profile.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
command -v perf >/dev/null || { echo "perf is needed (apt-get install linux-perf)" >&2; exit 1; }

go build -o "$work/swarm" ./cmd/swarm
sw=$work/swarm
mkdir -p "$work/src" "$work/get"
head -c $((size_mib << 20)) /dev/urandom >"$work/src/payload.bin"
"$sw" create "$work/src/payload.bin" -a http://127.0.0.1:9/announce --piece-length 256KiB -o "$work/p.torrent" -q
sync
sleep 3
cat "$work/src/payload.bin" >/dev/null

cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"; }
port=$((30000 + RANDOM % 20000))
"$sw" seed --no-dht "$work/p.torrent" -d "$work/src" --bind 127.0.5.1 --port $port -q >"$work/seed.log" 2>&1 &
seed_pid=$!
pids+=($seed_pid)
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.5.1/$port) 2>/dev/null && break; sleep 0.1; done
sleep 1
seed_cpu0=$(cpu_s $seed_pid)
perf record -q -F 2999 -g -p $seed_pid -o "$work/seed.perf" 2>/dev/null &
perf_pid=$!
sleep 0.5
# Prime the page cache as bench/transfer.sh does (PRIME=0: off): pages this VM's hypervisor
# took back cost several times more to write into, and would swamp the leecher's profile.
if [ "${PRIME:-1}" = 1 ]; then
  dd if=/dev/zero of="$work/prime.bin" bs=1M count=$((2 * size_mib)) 2>/dev/null
  rm -f "$work/prime.bin"
fi
t0=$(date +%s.%N)
/usr/bin/time -f "%U %S %R %M" -o "$work/get.time" perf record -q -F 2999 -g -o "$work/get.perf" -- \
  "$sw" get --no-dht "$work/p.torrent" -d "$work/get" --bind 127.0.5.2 --port $((port + 1)) --peer 127.0.5.1:$port -q \
  >"$work/get.log" 2>&1
t1=$(date +%s.%N)
seed_cpu=$(echo "$(cpu_s $seed_pid) - $seed_cpu0" | bc -l)
kill -INT $perf_pid; wait $perf_pid 2>/dev/null || true
cmp -s "$work/get/payload.bin" "$work/src/payload.bin" || { echo "download differs" >&2; exit 1; }

stages() { # FILE: the share of each stage in the samples of FILE
  perf report -i "$1" --no-children --sort symbol --stdio 2>/dev/null | python3 -c '
import os, re, sys
cats = [
    ("sha1", r"crypto/sha1|sha1block|blockSHANI|blockAMD64"),
    ("rc4", r"crypto/rc4"),
    ("copy", r"copy_.*iter|copy_user|copyin|copyout|rep_movs|memcpy_orig|_copy_to_user|_copy_from_user"),
    ("net", r"tcp_|skb|__ip_|ip_|net_rx|napi|sock_|inet_|loopback|__netif|netif_|__dev_|dev_hard|sk_"),
    ("disk", r"ext4|folio|filemap|page_cache|generic_perform_write|iomap|jbd2|block_|mpage|xas_|pagecache|writeback|__es_"),
    ("syscall", r"syscall|entry_SYSCALL|do_syscall|fdget|__x64_sys|exit_to_user|vfs_|ksys_|__fget"),
    ("vmirq", r"pvm_irq_enable"),
    ("sched", r"schedule|finish_task_switch|futex|try_to_wake|wake_up|usleep|nanosleep|runtime\.(findRunnable|runqput|runqget|stealWork|park_m|ready|goready|gopark|notewakeup|notesleep|lock2|unlock2|sellock|selunlock|selectgo|chansend|chanrecv|netpoll|schedule|mcall|wakep|startm|stopm|acquireSudog|releaseSudog|semrelease|semacquire|exitsyscall|entersyscall|reentersyscall|casgstatus|sysmon|nanotime|procyield|osyield)"),
    ("gc", r"runtime\.(gcBgMarkWorker|scanobject|greyobject|markBits|gcDrain|mallocgc|memclrNoHeapPointers|nextFreeFast|sweep|heapBits|findObject|wbBuf|bgsweep|spanOf|mspan|mcache|mcentral|refill|allocSpan|gcmark|gcWriteBarrier|bulkBarrier|typedmemmove|wbMove|newobject|makeslice|growslice|\(\*spanSet\))"),
    ("engine", r"github\.com/swarm-bt/swarm"),
    ("memmove", r"runtime\.memmove"),
]
tot = {c: 0.0 for c, _ in cats}
tot["other"] = 0.0
others = []
for line in sys.stdin:
    m = re.match(r"\s+([0-9.]+)%\s+\[[.k]\]\s+(\S+)", line)
    if not m:
        continue
    pct, sym = float(m.group(1)), m.group(2)
    for c, rx in cats:
        if re.search(rx, sym):
            tot[c] += pct
            break
    else:
        tot["other"] += pct
        others.append((pct, sym))
print(" ".join(f"{c} {v:.0f}%" for c, v in tot.items()))
if os.environ.get("VERBOSE"):
    print("  largest in other:", ", ".join(f"{s} {p:.1f}%" for p, s in sorted(others, reverse=True)[:12]), file=sys.stderr)
'
}
read -r lu ls lfaults lrss <"$work/get.time"
lcpu=$(echo "$lu + $ls" | bc -l)
per_gib() { echo "$1 * 1024 / $size_mib" | bc -l; }
printf "payload %d MiB, one seeder to one leecher on loopback, %d cores, load %s\n" "$size_mib" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf "wall %.2f s (perf running)\n" "$(echo "$t1 - $t0" | bc -l)"
printf "leecher %.2f CPU-s per GiB (user %.2f, sys %.2f; %d minor faults, max RSS %d MiB, perf included): %s\n" "$(per_gib "$lcpu")" "$(per_gib "$lu")" "$(per_gib "$ls")" "$lfaults" $((lrss / 1024)) "$(stages "$work/get.perf")"
printf "seeder  %.2f CPU-s per GiB: %s\n" "$(per_gib "$seed_cpu")" "$(stages "$work/seed.perf")"
if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp "$work/get.perf" "$work/seed.perf" "$sw" "$KEEP/"; fi
