package dht

import (
	"crypto/hmac"
	"crypto/sha1"
	"math/rand/v2"
	"net/netip"
	"time"
)

// tokenRotation is how often the token secret changes; tokens made with the previous secret
// are still accepted, so a token lives 5 to 10 minutes (BEP 5 suggests 10 at most).
const tokenRotation = 5 * time.Minute

const tokenLen = 8

// tokens makes and checks announce_peer tokens: a keyed hash of the asker's IP (BEP 5), so
// only a node that received our get_peers reply at that address can announce. Pure logic:
// rotation happens lazily from the time passed in.
type tokens struct {
	cur, prev [16]byte
	rotated   time.Time
}

func newTokens(now time.Time, r *rand.Rand) *tokens {
	t := &tokens{rotated: now}
	fill(r, t.cur[:])
	fill(r, t.prev[:])
	return t
}

func fill(r *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(r.Uint32())
	}
}

func (t *tokens) rotate(now time.Time, r *rand.Rand) {
	for n := 0; now.Sub(t.rotated) >= tokenRotation && n < 2; n++ {
		t.prev = t.cur
		fill(r, t.cur[:])
		t.rotated = t.rotated.Add(tokenRotation)
	}
	if now.Sub(t.rotated) >= tokenRotation {
		t.rotated = now // more than two periods passed: both secrets are fresh
	}
}

func mac(secret [16]byte, ip netip.Addr) string {
	h := hmac.New(sha1.New, secret[:])
	h.Write(ip.Unmap().AsSlice())
	return string(h.Sum(nil)[:tokenLen])
}

// make returns the token for ip.
func (t *tokens) make(ip netip.Addr, now time.Time, r *rand.Rand) string {
	t.rotate(now, r)
	return mac(t.cur, ip)
}

// valid reports whether tok was made for ip with the current or the previous secret.
func (t *tokens) valid(tok string, ip netip.Addr, now time.Time, r *rand.Rand) bool {
	t.rotate(now, r)
	return hmac.Equal([]byte(tok), []byte(mac(t.cur, ip))) || hmac.Equal([]byte(tok), []byte(mac(t.prev, ip)))
}
