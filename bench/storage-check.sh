#!/bin/sh
# Resume-check throughput: swarm's storage.Check against libtorrent's full recheck and
# mktorrent's hashing of the same amount of data (256 MiB, 256 KiB pieces, warm page cache),
# side by side, median of 3 runs. Usage: bench/storage-check.sh   (from the repository root)
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -c $((256 << 20)) /dev/urandom >"$tmp/payload.bin"
mktorrent -l 18 -a http://127.0.0.1:1/announce -o "$tmp/p.torrent" "$tmp/payload.bin" >/dev/null
go test -c -o "$tmp/storage.test" ./peer/storage
cat >"$tmp/lt_check.py" <<'PY'
import sys, time
import libtorrent as lt
ti = lt.torrent_info(sys.argv[1])
s = lt.session({'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False,
                'enable_natpmp': False, 'listen_interfaces': '127.0.0.1:0',
                'hashing_threads': 2})
t0 = time.monotonic()
h = s.add_torrent({'ti': ti, 'save_path': sys.argv[2]})
while h.status().state not in (lt.torrent_status.seeding, lt.torrent_status.finished):
    if time.monotonic() - t0 > 120:
        sys.exit('libtorrent check timed out')
    time.sleep(0.005)
print('%.1f' % (256 / (time.monotonic() - t0) * 1.048576))
PY
median() { sort -n | sed -n 2p; }
cat "$tmp/payload.bin" >/dev/null # warm the cache
for run in 1 2 3; do
	"$tmp/storage.test" -test.run XXX -test.bench 'BenchmarkCheck/workers=all' -test.benchtime 3x |
		awk '/MB\/s/ {print $(NF-1)}' >>"$tmp/swarm"
	/usr/bin/python3 "$tmp/lt_check.py" "$tmp/p.torrent" "$tmp" >>"$tmp/lt"
	s=$(date +%s.%N)
	mktorrent -t 2 -l 18 -a http://127.0.0.1:1/a -o "$tmp/m$run.torrent" "$tmp/payload.bin" >/dev/null
	e=$(date +%s.%N)
	echo "$s $e" | awk '{printf "%.1f\n", 268.435456 / ($2 - $1)}' >>"$tmp/mk"
done
sw=$(median <"$tmp/swarm")
lt=$(median <"$tmp/lt")
mk=$(median <"$tmp/mk")
echo "check 256 MiB, 256 KiB pieces, warm cache, median of 3 (MB/s):"
echo "swarm storage.Check (2 workers): $sw"
echo "libtorrent recheck (2 hashing threads): $lt"
echo "mktorrent -t 2 (hashing only): $mk"
echo "$sw $lt" | awk '{printf "ratio swarm/libtorrent: %.2f\n", $1 / $2}'
