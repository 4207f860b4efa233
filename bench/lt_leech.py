#!/usr/bin/python3
"""Time one libtorrent leecher for bench/transfer.sh: download --torrent into --dir, listening
on --listen, and print "elapsed SECONDS" when every piece is verified. Polls every 20 ms so the
timing error is small. DHT, LSD, UPnP, NAT-PMP, uTP and PEX are off (loopback only).

--seed seeds --dir instead until SIGTERM, then prints "uploaded BYTES" (payload bytes sent).
--tuned applies the settings of the reference figures in shared/INTEROP-NOTES.md (an untuned
libtorrent is about half as fast on loopback)."""
import argparse
import signal
import sys
import time

import libtorrent as lt


def encryption_settings(mode):
    """MSE settings: require = RC4 only both ways, off = plain only, default = libtorrent's."""
    if mode == "require":
        return {"out_enc_policy": int(lt.enc_policy.forced), "in_enc_policy": int(lt.enc_policy.forced),
                "allowed_enc_level": int(lt.enc_level.rc4), "prefer_rc4": True}
    if mode == "off":
        return {"out_enc_policy": int(lt.enc_policy.disabled), "in_enc_policy": int(lt.enc_policy.disabled)}
    return {}


TUNED = {"send_buffer_watermark": 4 << 20, "max_queued_disk_bytes": 16 << 20,
         "max_out_request_queue": 1500, "request_queue_time": 3, "unchoke_slots_limit": 16}


def seed(h):
    """Seeds until SIGTERM, re-announcing every 2 s (libtorrent drops upload-only peers and
    meets them again at the next announce); prints the payload bytes uploaded."""
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    last = 0.0
    while not stop:
        if time.time() - last > 2 and h.status().is_seeding:
            h.force_reannounce(0, -1, lt.reannounce_flags_t.ignore_min_interval)
            last = time.time()
        time.sleep(0.05)
    print("uploaded %d" % h.status().total_payload_upload, flush=True)
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--torrent", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--listen", required=True)
    p.add_argument("--timeout", type=float, default=300)
    p.add_argument("--encryption", choices=["default", "require", "off"], default="default")
    p.add_argument("--seed", action="store_true")
    p.add_argument("--tuned", action="store_true")
    a = p.parse_args()
    start = time.time()
    ip = a.listen.rsplit(":", 1)[0]
    ses = lt.session({
        "listen_interfaces": a.listen, "outgoing_interfaces": ip,
        "enable_dht": False, "enable_lsd": False, "enable_upnp": False, "enable_natpmp": False,
        "enable_incoming_utp": False, "enable_outgoing_utp": False,
        "allow_multiple_connections_per_ip": True,
        **encryption_settings(a.encryption),
        **(TUNED if a.tuned else {}),
    }, 0)
    h = ses.add_torrent({"ti": lt.torrent_info(a.torrent), "save_path": a.dir})
    if a.seed:
        return seed(h)
    last = 0.0
    while time.time() - start < a.timeout:
        s = h.status()
        if s.is_seeding:
            print("elapsed %.3f" % (time.time() - start), flush=True)
            return 0
        if time.time() - last > 2:
            h.force_reannounce(0, -1, lt.reannounce_flags_t.ignore_min_interval)
            last = time.time()
        time.sleep(0.02)
    print("timeout", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
