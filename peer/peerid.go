package peer

import (
	"math/rand/v2"
	"strings"
)

// peerIDPrefix is our Azureus-style client tag (BEP 20): SW, version 0.1.0.0.
const peerIDPrefix = "-SW0100-"

// NewPeerID returns a peer ID of our client prefix followed by random alphanumerics.
func NewPeerID(rng *rand.Rand) [20]byte {
	const chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var id [20]byte
	copy(id[:], peerIDPrefix)
	for i := len(peerIDPrefix); i < len(id); i++ {
		id[i] = chars[rng.IntN(len(chars))]
	}
	return id
}

// ClientName guesses the client from an Azureus-style peer ID (BEP 20), e.g. "lt 0D80" for
// "-lt0D80-..."; other IDs give "".
func ClientName(id [20]byte) string {
	if id[0] != '-' || id[7] != '-' {
		return ""
	}
	tag := string(id[1:7])
	if strings.ContainsFunc(tag, func(r rune) bool { return r < '0' || r > 'z' }) {
		return ""
	}
	return tag[:2] + " " + tag[2:]
}
