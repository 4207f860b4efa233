package peer

import "net/netip"

// SourceMagnet: a magnet link's x.pe (the other sources are in snapshot.go).
const SourceMagnet PeerSource = "magnet"

// sourcedAddr is an address with where it came from.
type sourcedAddr struct {
	addr netip.AddrPort
	src  PeerSource
}
