"""Run one libtorrent session on loopback for the tracker interop tests.

usage: lt_session.py TORRENT SAVE_DIR LISTEN_PORT [IP]

Seeds (or downloads) TORRENT into SAVE_DIR, announcing to the torrent's tracker with DHT, LSD,
UPnP and NAT-PMP off. Prints one status line a second and "seeding" once it has every piece;
it runs until killed. Every 2 s it re-announces, because libtorrent drops "uninteresting
upload-only" peers and would otherwise only meet new ones at the next regular announce.
"""
import sys
import time

import libtorrent as lt

torrent, save_dir, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
ip = sys.argv[4] if len(sys.argv) > 4 else "127.0.0.1"

settings = {
    "listen_interfaces": "%s:%d" % (ip, port),
    "enable_dht": False,
    "enable_lsd": False,
    "enable_upnp": False,
    "enable_natpmp": False,
    "allow_multiple_connections_per_ip": True,
    "announce_to_all_trackers": True,
    "alert_mask": lt.alert.category_t.error_notification | lt.alert.category_t.tracker_notification,
}
ses = lt.session(settings)
params = lt.add_torrent_params()
params.ti = lt.torrent_info(torrent)
params.save_path = save_dir
handle = ses.add_torrent(params)

said_seeding = False
last_announce = 0.0
while True:
    for a in ses.pop_alerts():
        print("alert:", a.message(), flush=True)
    st = handle.status()
    if st.is_seeding and not said_seeding:
        print("seeding", flush=True)
        said_seeding = True
    now = time.time()
    if now - last_announce > 2:
        handle.force_reannounce()
        last_announce = now
        print("state=%s progress=%.2f peers=%d" % (st.state, st.progress, st.num_peers), flush=True)
    time.sleep(0.2)
