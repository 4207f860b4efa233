#!/usr/bin/python3
"""Drive libtorrent (python3-libtorrent) for swarm's interop tests.

Modes:
  seed   --torrent T --dir D --listen IP:PORT   check D against T, seed until killed
  check  --torrent T --dir D --listen IP:PORT   check D against T, exit 0 if complete
  leech  --torrent T --dir D --listen IP:PORT   download T into D, exit 0 when complete
  create --path P --out T --announce URL --piece-length N   write a v1-only torrent
  info   --torrent T                            print "infohash <hex>" and the file list

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
import sys
import time

import libtorrent as lt


def log(*parts):
    print(time.strftime("%H:%M:%S"), *parts, flush=True)


def session(listen, encryption="default"):
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
    }
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
    return lt.session(settings, 0)


def drain(ses):
    """Log pending alerts; report whether the torrent finished checking its files."""
    checked = False
    for a in ses.pop_alerts():
        log("alert", type(a).__name__, a.message())
        checked = checked or isinstance(a, lt.torrent_checked_alert)
    return checked


def run(args, seeding):
    ses = session(args.listen, args.encryption)
    ti = lt.torrent_info(args.torrent)
    log("infohash", str(ti.info_hash()), "pieces", ti.num_pieces(), "size", ti.total_size())
    h = ses.add_torrent({"ti": ti, "save_path": args.dir})
    last_announce = 0.0
    said = False
    checked = False
    deadline = time.time() + args.timeout
    while time.time() < deadline:
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
    p.add_argument("mode", choices=["seed", "check", "leech", "create", "info"])
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
