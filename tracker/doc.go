// Package tracker is an HTTP BitTorrent tracker (BEP 3 announce, BEP 48 scrape, BEP 23 compact
// peers, BEP 7 IPv6 peers), a UDP tracker over the same swarms (BEP 15, BEP 41; ServeUDP,
// ListenUDP; the packets are in tracker/udpwire) and the client side of announcing to either
// (BEP 12 tiers).
//
// The server keeps swarms in a Store; MemStore is the in-memory implementation, sharded by
// info-hash so that announces for different torrents do not contend on one lock. Server is an
// http.Handler; Run starts the reaper that expires silent peers, and Serve runs both on a
// listener with timeouts and graceful shutdown.
//
// Only *ClientError values reach clients, as a bencoded "failure reason" with HTTP 200, which is
// what every client expects; anything else is logged and answered generically.
package tracker
