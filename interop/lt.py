#!/usr/bin/python3
"""Drive libtorrent (python3-libtorrent) for swarm's interop tests.

Modes:
  seed   --torrent T --dir D --listen IP:PORT   check D against T, seed until killed
  check  --torrent T --dir D --listen IP:PORT   check D against T, exit 0 if complete
  leech  --torrent T --dir D --listen IP:PORT   download T into D, exit 0 when complete
  create --path P --out T --announce URL --piece-length N   write a v1-only torrent
  info   --torrent T                            print "infohash <hex>" and the file list
  magnet --magnet URI --dir D --listen IP:PORT  fetch the metadata and download, exit 0 when
                                                complete (--metadata-only: once it has it)

--plugins turns libtorrent's default plugins on (ut_metadata, ut_pex, smart_ban): magnet
links and PEX need them. --peer IP:PORT (repeatable) connects to a peer directly. --upload-rate
and --download-rate cap the session (bytes/s). Every few seconds the peer list is logged as
"peer IP:PORT client C source S flags F", S being libtorrent's source bits (tracker 1, dht 2,
pex 4, lsd 8, resume 16, incoming 32) and F its flags (the BEP 6 fast bit is not exposed).

--choke-signals (seed): SIGUSR1 chokes every peer, SIGUSR2 unchokes them again, each logged
("choking every peer", "unchoking"). libtorrent has no call to choke a peer, so SIGUSR1 sets
unchoke_slots_limit to 0 (its next unchoke round, within a second, chokes every peer that is
not optimistically unchoked, and with 0 slots it unchokes none optimistically) and SIGUSR2 puts
8 back. For that, loopback peers go in the global peer class (the local class ignores unchoke
slots), and no allowed_fast set is sent (allowed_fast_set_size 0), so that a choked peer may ask
for nothing; the send buffer is kept small, so that requests wait in libtorrent's queue, where a
choke rejects them (BEP 6), rather than in the socket.

--encryption require (seed, check, leech) forces MSE with RC4 both ways (out_enc_policy and
in_enc_policy forced, allowed_enc_level rc4); the default is libtorrent's (try MSE, accept
both); header forces MSE with the plaintext method only (an obfuscated handshake, then plain
messages); off refuses MSE both ways.

DHT, LSD, UPnP, NAT-PMP, uTP and PEX (no default plugins) are off. libtorrent drops
"uninteresting upload-only" peers and only meets them again at the next announce, so the
torrent re-announces every --reannounce seconds. Run with /usr/bin/python3: the module is
installed for the system interpreter only.
"""

import argparse
import os
import signal
import sys
import time

import libtorrent as lt


def log(*parts):
    print(time.strftime("%H:%M:%S"), *parts, flush=True)


def session(listen, encryption="default", plugins=False, up=0, down=0, choke_signals=False):
    ip = listen.rsplit(":", 1)[0]
    settings = {
        "listen_interfaces": listen,
        "outgoing_interfaces": ip,
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_incoming_utp": False,
        "enable_outgoing_utp": False,
        "allow_multiple_connections_per_ip": True,
        "announce_to_all_trackers": True,
        "alert_mask": lt.alert.category_t.error_notification
        | lt.alert.category_t.status_notification
        | lt.alert.category_t.tracker_notification
        | lt.alert.category_t.connect_notification
        | lt.alert.category_t.peer_notification
        | lt.alert.category_t.storage_notification,
        "user_agent": "swarm-interop-libtorrent/" + lt.__version__,
        "upload_rate_limit": up,
        "download_rate_limit": down,
    }
    if choke_signals:
        settings.update({
            "allowed_fast_set_size": 0,
            "send_buffer_watermark": 64 * 1024,
            "send_buffer_low_watermark": 16 * 1024,
        })
    if encryption == "off":
        settings.update({
            "out_enc_policy": int(lt.enc_policy.disabled),
            "in_enc_policy": int(lt.enc_policy.disabled),
        })
    if encryption == "header":
        # MSE forced both ways, but only its obfuscated header: the stream stays plaintext.
        settings.update({
            "out_enc_policy": int(lt.enc_policy.forced),
            "in_enc_policy": int(lt.enc_policy.forced),
            "allowed_enc_level": int(lt.enc_level.plaintext),
        })
    if encryption == "require":
        # MSE/PE only, RC4 only, both ways: plain and header-only peers are refused.
        settings.update({
            "out_enc_policy": int(lt.enc_policy.forced),
            "in_enc_policy": int(lt.enc_policy.forced),
            "allowed_enc_level": int(lt.enc_level.rc4),
            "prefer_rc4": True,
        })
    # flags=0: no default plugins, so no ut_pex (and no ut_metadata, smart_ban).
    ses = lt.session(settings) if plugins else lt.session(settings, 0)
    if up or down or choke_signals:
        # Rate limits and unchoke slots skip local peers by default: put every address in the
        # global class.
        f = lt.ip_filter()
        f.add_rule("0.0.0.0", "255.255.255.255", 1 << lt.session.global_peer_class_id)
        ses.set_peer_class_filter(f)
    return ses


def drain(ses):
    """Log pending alerts; report whether the torrent finished checking its files."""
    checked = False
    for a in ses.pop_alerts():
        log("alert", type(a).__name__, a.message())
        checked = checked or isinstance(a, lt.torrent_checked_alert)
    return checked


def log_peers(h):
    for p in h.get_peer_info():
        log("peer %s:%d client %s source %d flags %d" % (p.ip[0], p.ip[1], p.client, int(p.source), int(p.flags)))


def connect(h, peers):
    for pe in peers or []:
        ip, port = pe.rsplit(":", 1)
        h.connect_peer((ip, int(port)))


def run(args, seeding):
    ses = session(args.listen, args.encryption, args.plugins, args.upload_rate, args.download_rate,
                  args.choke_signals)
    choke = []  # slot limits asked for by signals, applied by the loop

    if args.choke_signals:
        signal.signal(signal.SIGUSR1, lambda *_: choke.append(0))
        signal.signal(signal.SIGUSR2, lambda *_: choke.append(8))
    if args.mode == "magnet":
        params = lt.parse_magnet_uri(args.magnet)
        params.save_path = args.dir
        start = time.time()
        h = ses.add_torrent(params)
        connect(h, args.peer)
        while not h.status().has_metadata:
            drain(ses)
            if time.time() - start > args.timeout:
                log("timeout waiting for metadata")
                return 1
            time.sleep(0.01)
        ti = h.torrent_file()
        log("metadata %.3f s %d bytes" % (time.time() - start, ti.metadata_size()))
        if args.metadata_only:
            return 0
    else:
        ti = lt.torrent_info(args.torrent)
        h = ses.add_torrent({"ti": ti, "save_path": args.dir})
        connect(h, args.peer)
    log("infohash", str(ti.info_hash()), "pieces", ti.num_pieces(), "size", ti.total_size())
    last_announce = 0.0
    last_peers = 0.0
    said = False
    checked = False
    deadline = time.time() + args.timeout
    while time.time() < deadline:
        while choke:
            slots = choke.pop(0)
            log("choking every peer" if slots == 0 else "unchoking")
            ses.apply_settings({"unchoke_slots_limit": slots})
        checked = drain(ses) or checked
        s = h.status()
        now = time.time()
        if args.mode != "check" and now - last_announce >= args.reannounce and s.state not in (
            lt.torrent_status.checking_files,
            lt.torrent_status.checking_resume_data,
        ):
            h.force_reannounce(0, -1, lt.reannounce_flags_t.ignore_min_interval)
            last_announce = now
        log(
            "progress %.4f state %s peers %d down %d up %d"
            % (s.progress, s.state, s.num_peers, s.total_payload_download, s.total_payload_upload)
        )
        if now - last_peers >= 2:
            log_peers(h)
            last_peers = now
        if s.errc.value() != 0:
            log("error", s.errc.message())
            return 2
        if s.is_seeding and not seeding:
            log("complete")
            return 0
        if s.is_seeding and seeding and not said:
            log("seeding")
            said = True
            if args.mode == "check":
                return 0
        if seeding and checked and s.progress < 1:
            # Seeding data that does not match the torrent is a harness or tool error.
            log("error seed data incomplete after check: progress %.4f" % s.progress)
            return 3
        time.sleep(0.5)
    log("timeout")
    return 1


def create(args):
    fs = lt.file_storage()
    lt.add_files(fs, args.path)
    t = lt.create_torrent(fs, args.piece_length, flags=lt.create_torrent.v1_only)
    t.add_tracker(args.announce)
    lt.set_piece_hashes(t, os.path.dirname(os.path.abspath(args.path)))
    with open(args.out, "wb") as f:
        f.write(lt.bencode(t.generate()))
    return 0


def info(args):
    ti = lt.torrent_info(args.torrent)
    print("infohash", str(ti.info_hashes().v1))
    print("name", ti.name())
    print("size", ti.total_size())
    print("pieces", ti.num_pieces())
    fs = ti.files()
    for i in range(fs.num_files()):
        print("file", fs.file_size(i), fs.file_path(i))
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["seed", "check", "leech", "create", "info", "magnet"])
    p.add_argument("--magnet")
    p.add_argument("--metadata-only", action="store_true")
    p.add_argument("--plugins", action="store_true")
    p.add_argument("--choke-signals", action="store_true")
    p.add_argument("--peer", action="append")
    p.add_argument("--upload-rate", type=int, default=0)
    p.add_argument("--download-rate", type=int, default=0)
    p.add_argument("--torrent")
    p.add_argument("--dir")
    p.add_argument("--listen")
    p.add_argument("--path")
    p.add_argument("--out")
    p.add_argument("--announce")
    p.add_argument("--piece-length", type=int, default=65536)
    p.add_argument("--reannounce", type=float, default=2.0)
    p.add_argument("--timeout", type=float, default=600.0)
    p.add_argument("--encryption", choices=["default", "require", "header", "off"], default="default")
    args = p.parse_args()
    if args.mode == "create":
        return create(args)
    if args.mode == "info":
        return info(args)
    return run(args, args.mode in ("seed", "check"))


if __name__ == "__main__":
    sys.exit(main())
