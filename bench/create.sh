#!/usr/bin/env bash
# Benchmark: hash a 1 GiB file (256 KiB pieces, warm page cache) with swarm create, mktorrent
# -t 2, transmission-create and libtorrent (v1-only) side by side in one hyperfine run, then
# measure each tool's peak RSS with /usr/bin/time -v. The file lives in a temp dir and is
# deleted afterwards. Because hyperfine runs each command's runs back to back, a machine whose
# load changes over time can skew its ratios; the script therefore also runs the tools in
# interleaved rounds and reports per-tool medians of wall and CPU time and the median of the
# per-round wall-time ratios against mktorrent. Usage: bench/create.sh [runs] [size-in-MiB]
set -euo pipefail
runs=${1:-5}
mib=${2:-1024}
repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd "$repo" && go build -o "$tmp/swarm" ./cmd/swarm)
f=$tmp/payload.bin
head -c "$((mib << 20))" /dev/urandom >"$f"
cat "$f" >/dev/null # warm the page cache

cat >"$tmp/lt.py" <<'PY'
import sys, libtorrent as lt
fs = lt.file_storage()
lt.add_files(fs, sys.argv[1])
ct = lt.create_torrent(fs, 262144, flags=lt.create_torrent.v1_only)
ct.add_tracker("http://127.0.0.1:6969/announce")
lt.set_piece_hashes(ct, sys.argv[2])
open(sys.argv[3], "wb").write(lt.bencode(ct.generate()))
PY

tr=http://127.0.0.1:6969/announce
names=(swarm mktorrent transmission-create libtorrent)
outs=(swarm mk tr lt)
cmds=(
  "$tmp/swarm create $f -q -l 256KiB -a $tr -o $tmp/swarm.torrent"
  "mktorrent -t 2 -l 18 -a $tr -o $tmp/mk.torrent $f"
  "transmission-create -s 256 -t $tr -o $tmp/tr.torrent $f"
  "/usr/bin/python3 $tmp/lt.py $f $tmp $tmp/lt.torrent"
)
args=()
for i in "${!names[@]}"; do
  args+=(-n "${names[$i]}" --prepare "rm -f $tmp/${outs[$i]}.torrent" "${cmds[$i]}")
done

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work may share the machine)"
hyperfine --warmup 1 --runs "$runs" --export-markdown "$tmp/hyperfine.md" --style basic "${args[@]}" | grep -v '^ *Range\|^$' || true
cat "$tmp/hyperfine.md"

sw=$("$tmp/swarm" info --json "$tmp/swarm.torrent" | awk -F'"' '/info_hash/ {print $4}')
mk=$("$tmp/swarm" info --json "$tmp/mk.torrent" | awk -F'"' '/info_hash/ {print $4}')
lt=$("$tmp/swarm" info --json "$tmp/lt.torrent" | awk -F'"' '/info_hash/ {print $4}')
echo "info-hash swarm $sw, mktorrent $mk, libtorrent $lt"

echo
echo "| tool | peak RSS |"
echo "|:---|---:|"
for i in "${!names[@]}"; do
  rm -f "$tmp/${outs[$i]}.torrent"
  # shellcheck disable=SC2086 # the command strings are split on purpose
  rss=$(/usr/bin/time -v ${cmds[$i]} 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ {print $2}')
  echo "| ${names[$i]} | $((rss / 1024)) MiB |"
done

echo
echo "Interleaved rounds ($runs): median wall s, median CPU s (user+sys), median per-round mktorrent/tool wall ratio"
for r in $(seq "$runs"); do
  for i in "${!names[@]}"; do
    rm -f "$tmp/${outs[$i]}.torrent"
    # shellcheck disable=SC2086
    /usr/bin/time -f "$r ${names[$i]} %e %U %S" -a -o "$tmp/rounds.txt" ${cmds[$i]} >/dev/null 2>&1
  done
done
/usr/bin/python3 - "$tmp/rounds.txt" <<'PY'
import collections, statistics, sys
wall, cpu = collections.defaultdict(dict), collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) == 5 and f[0].isdigit():
        wall[f[1]][f[0]] = float(f[2])
        cpu[f[1]].append(float(f[3]) + float(f[4]))
print("| tool | wall (median) | CPU user+sys (median) | speed vs mktorrent (median of rounds) |")
print("|:---|---:|---:|---:|")
for t, w in wall.items():
    ratio = statistics.median(wall["mktorrent"][r] / w[r] for r in w)
    print(f"| {t} | {statistics.median(w.values()):.2f} s | {statistics.median(cpu[t]):.2f} s | {ratio:.2f}x |")
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
