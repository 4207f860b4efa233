#!/usr/bin/python3
"""libtorrent peer for bench/ratelimit.sh: a leecher or a seeder that samples byte counters.

    lt_peer.py leech|seed --torrent T --dir D --listen IP:PORT --peer IP:PORT
               [--seconds 20] [--swarm-port P] [--swarm-pid-file F] [--label NAME]
               [--timeout 60]
    lt_peer.py serve-seed|serve-leech --torrent T --dir D --listen IP:PORT
               [--upload-limit B/S] [--download-limit B/S] [--timeout 60]

serve-seed and serve-leech are the reference client under test: a rate-limited libtorrent that
only waits for the measuring peer to connect, for --timeout seconds at most. In the reference
runs, "swarm" below means that process.

The libtorrent session connects to --peer (the swarm process under test) and reads, as "lt",
total_payload_download (leech) or total_payload_upload (seed). Optional series, read at the same
instants, measure the swarm process from its own side:
  "sock"  (--swarm-port P) the swarm end of the TCP connection whose local port is P, from
          `ss -tin`: bytes the swarm program read from the socket (bytes_received - Recv-Q) when
          it downloads, or wrote into it (bytes_acked + Send-Q) when it uploads. Converted from
          wire bytes to payload by 16384/16397 (a piece message carries 13 header bytes per
          16 KiB block). This is the quantity swarm's limiter gates, with no socket buffer in
          between.
  "wchar" (--swarm-pid-file F) /proc/PID/io wchar of the swarm process: everything it wrote
          (payload to disk when it downloads, to the socket when it uploads, plus a few bytes
          of other messages).
The clock starts at the first payload byte seen by libtorrent (polled every 10 ms; the sample
just before it is the baseline, so an opening burst counts against the limit); then all
counters are read every second for --seconds seconds. Prints one JSON object per run with,
for each series, the average rate over the window, the per-second min and max and all
per-second rates (bytes/s).
DHT, LSD, UPnP and NAT-PMP are off and the session gets no default plugins (so no ut_pex); with
no tracker in the torrent, only --peer connects.
"""
import argparse
import json
import subprocess
import sys
import time

import libtorrent as lt

WIRE_TO_PAYLOAD = 16384 / (16384 + 13)


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument('mode', choices=['leech', 'seed', 'serve-seed', 'serve-leech'])
    p.add_argument('--torrent', required=True)
    p.add_argument('--dir', required=True)
    p.add_argument('--listen', required=True)
    p.add_argument('--peer', default='')
    p.add_argument('--seconds', type=int, default=20)
    p.add_argument('--swarm-port', type=int, default=0)
    p.add_argument('--swarm-pid-file', default='')
    p.add_argument('--upload-limit', type=int, default=0)
    p.add_argument('--download-limit', type=int, default=0)
    p.add_argument('--label', default='')
    p.add_argument('--timeout', type=float, default=60)
    return p.parse_args()


def read_pid(path):
    """Returns the PID written in path, or 0 while the file is missing or incomplete."""
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return 0


def proc_wchar(pid):
    """Returns wchar of /proc/PID/io, or 0 when the process is unknown or gone."""
    try:
        with open('/proc/%d/io' % pid) as f:
            for line in f:
                k, v = line.split(':')
                if k == 'wchar':
                    return int(v)
    except OSError:
        pass
    return 0


def sock_bytes(port, inbound):
    """Returns the payload bytes the program on local port `port` read (inbound) or wrote."""
    out = subprocess.run(['ss', '-tinH', 'state', 'established', '( sport = :%d )' % port],
                         capture_output=True, text=True, timeout=5).stdout
    total, queue = 0, 0
    for line in out.splitlines():
        f = line.split()
        if not f:
            continue
        if not line[0].isspace():  # "Recv-Q Send-Q local peer"
            queue = int(f[0]) if inbound else int(f[1])
            continue
        key = 'bytes_received:' if inbound else 'bytes_acked:'
        for x in f:
            if x.startswith(key):
                total += int(x[len(key):]) + (-queue if inbound else queue)
    return total * WIRE_TO_PAYLOAD


def make_session(a):
    s = lt.session({
        'listen_interfaces': a.listen,
        'enable_dht': False, 'enable_lsd': False,
        'enable_upnp': False, 'enable_natpmp': False,
        'allow_multiple_connections_per_ip': True,
        'upload_rate_limit': a.upload_limit,
        'download_rate_limit': a.download_limit,
        # swarm speaks plain BitTorrent only; without this libtorrent first tries an encrypted
        # handshake, which fails, and retries in plain text seconds later.
        'out_enc_policy': int(lt.enc_policy.disabled),
        # TCP only: libtorrent tries uTP first and falls back to TCP after a 3 s timeout.
        'enable_outgoing_utp': False, 'enable_incoming_utp': False,
        'alert_mask': 0,
        # Dial a peer that refused or dropped us again after 1 s, not the default 60 s.
        'min_reconnect_time': 1,
    }, 0)  # flags 0: no default plugins (ut_pex, ut_metadata, smart_ban)
    # Rate limits skip local-network peers by default (they go to the unlimited local peer
    # class); put every address in the global class so that the limits apply on loopback.
    f = lt.ip_filter()
    f.add_rule('0.0.0.0', '255.255.255.255', 1 << lt.session.global_peer_class_id)
    s.set_peer_class_filter(f)
    return s


def add(s, a):
    params = {'ti': lt.torrent_info(a.torrent), 'save_path': a.dir}
    if a.mode in ('seed', 'serve-seed'):
        params['flags'] = lt.torrent_flags.seed_mode
    return s.add_torrent(params)


class Reader:
    """Reads every series at one instant."""

    def __init__(self, a, h):
        self.a, self.h, self.pid = a, h, 0

    def names(self):
        n = ['lt']
        if self.a.swarm_port:
            n.append('sock')
        if self.a.swarm_pid_file:
            n.append('wchar')
        return n

    def read(self):
        """Returns [(value, time)] per series, each stamped with the midpoint of its own read
        (an `ss` call can take long on a loaded machine; one stamp for all would skew rates)."""
        v = [stamped(lambda: self.counter())]
        if self.a.swarm_port:
            v.append(stamped(lambda: sock_bytes(self.a.swarm_port, inbound=self.a.mode == 'seed')))
        if self.a.swarm_pid_file:
            if not self.pid:
                self.pid = read_pid(self.a.swarm_pid_file)
            v.append(stamped(lambda: proc_wchar(self.pid) if self.pid else 0))
        return v

    def counter(self):
        st = self.h.status()
        return st.total_payload_download if self.a.mode == 'leech' else st.total_payload_upload


def stamped(f):
    t = time.monotonic()
    v = f()
    return v, (t + time.monotonic()) / 2


def wait_first_byte(a, h, r):
    """Connects to --peer (again every 5 s while no connection exists) until the first payload
    byte; returns the start time, the time of the first byte and the reading just before it."""
    start = time.monotonic()
    connected_at = 0.0
    before = r.read()
    while True:
        now = time.monotonic()
        if now - start > a.timeout:
            sys.exit('lt_peer: no payload within %.0f s' % a.timeout)
        if now - connected_at > 5 and not h.get_peer_info():
            ip, port = a.peer.rsplit(':', 1)
            h.connect_peer((ip, int(port)))
            connected_at = now
        if h.status().total_payload_download + h.status().total_payload_upload > 0:
            return start, time.monotonic(), before
        before = r.read()
        time.sleep(0.01)


def main():
    a = parse_args()
    s = make_session(a)
    h = add(s, a)
    if a.mode.startswith('serve-'):
        time.sleep(a.timeout)
        return
    if not a.peer:
        sys.exit('lt_peer: --peer is required in mode ' + a.mode)
    r = Reader(a, h)
    start, t0, before = wait_first_byte(a, h, r)
    samples = [before]
    for i in range(1, a.seconds + 1):
        time.sleep(max(0.0, t0 + i - time.monotonic()))
        samples.append(r.read())
    out = {'label': a.label, 'mode': a.mode, 'first_byte_after': round(t0 - start, 2),
           'seconds': round(samples[-1][0][1] - samples[0][0][1], 3),
           'progress_at_end': round(h.status().progress, 3)}
    for k, name in enumerate(r.names()):
        out[name] = series([s[k] for s in samples])
    print(json.dumps(out))


def series(samples):
    """Average rate over the window, and per-second rates, of one counter's (value, time)s."""
    rates = [(samples[i][0] - samples[i - 1][0]) / (samples[i][1] - samples[i - 1][1])
             for i in range(1, len(samples))]
    span = samples[-1][1] - samples[0][1]
    return {'avg': round((samples[-1][0] - samples[0][0]) / span),
            'min': round(min(rates)), 'max': round(max(rates)),
            'per_second': [round(x) for x in rates]}


if __name__ == '__main__':
    main()
