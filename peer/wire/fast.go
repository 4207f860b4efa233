package wire

import (
	"crypto/sha1"
	"encoding/binary"
	"net/netip"
)

// AllowedFastSet computes the k pieces (of numPieces) that a peer at ip may request while
// choked, as BEP 6 specifies: the SHA-1 chain over the IPv4 address masked to /24 and the
// info-hash. Both sides compute the same set, so it is checkable. BEP 6 defines it for IPv4
// only: other addresses get none. k is capped at numPieces.
func AllowedFastSet(ip netip.Addr, infoHash [20]byte, numPieces, k int) []uint32 {
	ip = ip.Unmap()
	k = min(k, numPieces)
	if !ip.Is4() || k <= 0 {
		return nil
	}
	a4 := ip.As4()
	x := make([]byte, 0, 24)
	x = append(x, a4[0], a4[1], a4[2], 0)
	x = append(x, infoHash[:]...)
	out := make([]uint32, 0, k)
	seen := make(map[uint32]bool, k)
	for len(out) < k {
		sum := sha1.Sum(x)
		x = sum[:]
		for i := 0; i < 5 && len(out) < k; i++ {
			idx := binary.BigEndian.Uint32(x[i*4:]) % uint32(numPieces)
			if !seen[idx] {
				seen[idx] = true
				out = append(out, idx)
			}
		}
	}
	return out
}
