// Package dht is a BEP 5 Mainline DHT node: the KRPC codec, a routing table (pure logic, no
// I/O), the token and peer stores that serve get_peers and announce_peer, and iterative
// lookups. The Node runs over a net.PacketConn it is given (so the session can share its UDP
// port) with an injected clock and *rand.Rand, so the whole node runs inside testing/synctest
// over an in-memory packet network. NOTES.md explains the defences and the choices.
package dht

import (
	"encoding/hex"
	"hash/crc32"
	"log/slog"
	"math/bits"
	"math/rand/v2"
	"net/netip"

	"github.com/swarm-bt/swarm/metainfo"
)

// IDSize is the length of a node id and of an info-hash.
const IDSize = 20

// ID is a 160-bit node id or lookup target. Distances are XOR (Kademlia).
type ID [IDSize]byte

// String returns the lower-case hex form.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// LogValue makes slog print the hex form.
func (id ID) LogValue() slog.Value { return slog.StringValue(id.String()) }

// IDFromHash converts an info-hash to the lookup target it names.
func IDFromHash(h metainfo.Hash) ID { return ID(h) }

// Xor returns the distance between a and b.
func (id ID) Xor(o ID) ID {
	var d ID
	for i := range id {
		d[i] = id[i] ^ o[i]
	}
	return d
}

// Less orders distances: reports whether id is closer to zero than o.
func (id ID) Less(o ID) bool {
	for i := range id {
		if id[i] != o[i] {
			return id[i] < o[i]
		}
	}
	return false
}

// closer reports whether a is closer to target than b.
func closer(target, a, b ID) bool {
	for i := range target {
		x, y := a[i]^target[i], b[i]^target[i]
		if x != y {
			return x < y
		}
	}
	return false
}

// commonPrefix is the number of leading bits a and b share (160 when equal).
func commonPrefix(a, b ID) int {
	for i := range a {
		if x := a[i] ^ b[i]; x != 0 {
			return i*8 + bits.LeadingZeros8(x)
		}
	}
	return IDSize * 8
}

// randomID returns a uniformly random id.
func randomID(r *rand.Rand) ID {
	var id ID
	for i := range id {
		id[i] = byte(r.Uint32())
	}
	return id
}

// randomIDWithPrefix returns a random id sharing exactly the first n bits of p and differing at
// bit n (n < 160): a refresh target for the bucket at depth n.
func randomIDWithPrefix(r *rand.Rand, p ID, n int) ID {
	id := randomID(r)
	for i := 0; i < n; i++ {
		setBit(&id, i, bit(p, i))
	}
	if n < IDSize*8 {
		setBit(&id, n, !bit(p, n))
	}
	return id
}

func bit(id ID, i int) bool { return id[i/8]&(0x80>>(i%8)) != 0 }

func setBit(id *ID, i int, v bool) {
	if v {
		id[i/8] |= 0x80 >> (i % 8)
	} else {
		id[i/8] &^= 0x80 >> (i % 8)
	}
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// bep42Exempt reports whether ip is exempt from BEP 42 (private, loopback, link-local): such
// addresses say nothing about where a node is on the internet.
func bep42Exempt(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified()
}

// bep42Prefix returns the crc32c over the masked address with r mixed in (BEP 42).
func bep42Prefix(ip netip.Addr, r byte) uint32 {
	ip = ip.Unmap()
	if ip.Is4() {
		b := ip.As4()
		mask := [4]byte{0x03, 0x0f, 0x3f, 0xff}
		for i := range b {
			b[i] &= mask[i]
		}
		b[0] |= (r & 7) << 5
		return crc32.Checksum(b[:], castagnoli)
	}
	b16 := ip.As16()
	b := b16[:8]
	mask := [8]byte{0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff}
	for i := range b {
		b[i] &= mask[i]
	}
	b[0] |= (r & 7) << 5
	return crc32.Checksum(b, castagnoli)
}

// BEP42ID returns a random node id that is valid for the public address ip (BEP 42).
func BEP42ID(ip netip.Addr, r *rand.Rand) ID {
	id := randomID(r)
	rb := byte(r.Uint32())
	crc := bep42Prefix(ip, rb)
	id[0] = byte(crc >> 24)
	id[1] = byte(crc >> 16)
	id[2] = byte(crc>>8)&0xf8 | id[2]&0x07
	id[19] = rb
	return id
}

// BEP42Valid reports whether id is a valid id for a node at ip. Exempt addresses (private,
// loopback, link-local) are always valid.
func BEP42Valid(id ID, ip netip.Addr) bool {
	if bep42Exempt(ip) {
		return true
	}
	crc := bep42Prefix(ip, id[19])
	return id[0] == byte(crc>>24) && id[1] == byte(crc>>16) && id[2]&0xf8 == byte(crc>>8)&0xf8
}
