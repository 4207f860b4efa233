// Package interop checks swarm against the BitTorrent programs people actually run:
// libtorrent (through python3-libtorrent), Transmission, aria2 and opentracker, plus the
// torrent creators mktorrent and transmission-create.
//
// Everything lives in the tests: TestMain builds the swarm binary once and every case starts
// real processes on loopback, each client on its own 127.0.0.x address with DHT, LSD, UPnP,
// NAT-PMP and PEX off. A case is bounded by a context, kills its processes in t.Cleanup and
// prints their logs when it fails. A missing tool skips its cases unless SWARM_INTEROP=1, in
// which case it fails them; `go test -short` skips the whole package. docs/interop.md lists
// the matrix, the versions last tested and the quirks the harness works around.
package interop
