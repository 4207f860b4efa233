#!/usr/bin/python3
"""libtorrent with its DHT on, bootstrapped from one loopback node only (interop/dht_test.go):
seed a torrent announced in the DHT only, or fetch a magnet link through the DHT alone.
Prints DHT alerts with --verbose and "complete" when a magnet download is done.

What it takes on loopback (docs/interop.md): the routing and search IP restrictions and the
dark-internet filter off, node-id enforcement off (loopback ids are not BEP 42 ones), and
dht_announce_interval short plus force_dht_announce: libtorrent spreads its DHT announces
over dht_announce_interval (15 minutes by default) and a torrent added before the DHT has
bootstrapped waits for that timer, so without them a magnet sits in downloading_metadata."""
import argparse, sys, time
import libtorrent as lt

def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["seed", "magnet"])
    p.add_argument("--listen", required=True)
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--torrent")
    p.add_argument("--magnet")
    p.add_argument("--dir", required=True)
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--verbose", action="store_true")
    a = p.parse_args()
    s = lt.session({
        "listen_interfaces": a.listen, "enable_dht": True, "enable_lsd": False,
        "enable_upnp": False, "enable_natpmp": False, "enable_outgoing_utp": False,
        "enable_incoming_utp": False, "allow_multiple_connections_per_ip": True,
        "dht_restrict_routing_ips": False, "dht_restrict_search_ips": False,
        "dht_ignore_dark_internet": False, "dht_bootstrap_nodes": a.bootstrap,
        "dht_prefer_verified_node_ids": False, "dht_enforce_node_id": False,
        "dht_announce_interval": 5,
        "alert_mask": lt.alert.category_t.all_categories,
    })
    if a.mode == "seed":
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(a.torrent)
        atp.save_path = a.dir
        atp.flags |= lt.torrent_flags.seed_mode
    else:
        atp = lt.parse_magnet_uri(a.magnet)
        atp.save_path = a.dir
    h = s.add_torrent(atp)
    end = time.time() + a.timeout
    done = False
    while time.time() < end:
        s.wait_for_alert(500)
        for al in s.pop_alerts():
            t = type(al).__name__
            if a.verbose and t in ("dht_log_alert", "dht_pkt_alert", "dht_bootstrap_alert", "dht_announce_alert", "dht_get_peers_alert", "dht_reply_alert", "dht_error_alert", "peer_connect_alert", "peer_disconnected_alert"):
                print(t, al.message(), flush=True)
        st = h.status()
        if a.mode == "magnet" and st.is_seeding and not done:
            print("complete", flush=True)
            done = True
            return 0
        if int(time.time()) % 5 == 0:
            h.force_dht_announce()
        if a.verbose and int(time.time()*2) % 10 == 0:
            print("status", st.state, st.num_peers, flush=True)
    return 0 if a.mode == "seed" else 1

sys.exit(main())
