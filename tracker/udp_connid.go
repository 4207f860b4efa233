package tracker

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"net/netip"
	"time"
)

// connIDLifetime is how long a connection id stays valid. BEP 15 lets a client use one for a
// minute after it got it; a server accepts it for two.
const connIDLifetime = 2 * time.Minute

// connIDMinter issues and checks BEP 15 connection ids without keeping a table. An id is 16
// bits of the issue time (in seconds) and a 48-bit MAC of the client's address and port and
// the full issue time under a key drawn once per process. The MAC is AES-128 CBC-MAC over two
// blocks of fixed layout, a PRF for fixed-length input: knowing ids issued to your own
// addresses tells nothing about the id of another address (so a spoofed source gets no
// announce or scrape reply, and the tracker cannot amplify traffic towards it), and an id
// expires because the time is part of the MAC input. Re-deriving the full time from 16 bits
// means an id cannot come back to life when those bits wrap, 18 hours later.
//
// It is safe for concurrent use; the scratch blocks live in a connIDScratch per goroutine so
// that minting allocates nothing.
type connIDMinter struct {
	block cipher.Block
}

// connIDScratch is one goroutine's working memory for connIDMinter.
type connIDScratch struct {
	in, out [aes.BlockSize]byte
}

func newConnIDMinter() *connIDMinter {
	var key [16]byte
	_, _ = rand.Read(key[:]) // crypto/rand.Read never fails on supported platforms
	return newConnIDMinterKey(key)
}

func newConnIDMinterKey(key [16]byte) *connIDMinter {
	b, err := aes.NewCipher(key[:])
	if err != nil {
		panic("tracker: aes with a 16-byte key: " + err.Error()) // cannot happen
	}
	return &connIDMinter{block: b}
}

// mac returns the 48-bit MAC of (addr, unix seconds).
func (m *connIDMinter) mac(sc *connIDScratch, addr netip.AddrPort, secs int64) uint64 {
	sc.in = addr.Addr().As16()
	m.block.Encrypt(sc.out[:], sc.in[:])
	var b2 [aes.BlockSize]byte
	binary.BigEndian.PutUint16(b2[0:], addr.Port())
	binary.BigEndian.PutUint64(b2[2:], uint64(secs))
	for i := range sc.in {
		sc.in[i] = sc.out[i] ^ b2[i]
	}
	m.block.Encrypt(sc.out[:], sc.in[:])
	return binary.BigEndian.Uint64(sc.out[:]) >> 16
}

// mint returns a connection id for addr issued at now.
func (m *connIDMinter) mint(sc *connIDScratch, addr netip.AddrPort, now time.Time) uint64 {
	secs := now.Unix()
	return uint64(uint16(secs))<<48 | m.mac(sc, addr, secs)
}

// valid reports whether id was minted for addr within connIDLifetime before now.
func (m *connIDMinter) valid(sc *connIDScratch, id uint64, addr netip.AddrPort, now time.Time) bool {
	secs := now.Unix()
	age := int64(uint16(secs) - uint16(id>>48))
	if age > int64(connIDLifetime/time.Second) {
		return false
	}
	return m.mac(sc, addr, secs-age) == id&(1<<48-1)
}
