// Package mse implements Message Stream Encryption (MSE, also called Protocol Encryption), the
// obfuscated BitTorrent handshake that libtorrent, Transmission, aria2 and rtorrent speak.
//
// The exchange, with A the side that dialled and B the side that accepted:
//
//	1 A->B: Ya, PadA
//	2 B->A: Yb, PadB
//	3 A->B: HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S),
//	        ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
//	4 B->A: ENCRYPT(VC, crypto_select, len(PadD), PadD), ENCRYPT2(payload stream)
//	5 A->B: ENCRYPT2(payload stream)
//
// Y is a Diffie-Hellman public value (768-bit prime, generator 2) sent as 96 big-endian bytes,
// S the shared secret, SKEY the info-hash, HASH SHA-1, VC eight zero bytes, and ENCRYPT RC4
// keyed with HASH('keyA'|'keyB', S, SKEY) with its first 1024 bytes of key stream discarded.
// ENCRYPT2 is the selected method: RC4 continuing the same stream, or nothing at all
// (plaintext after the header). IA, the initial payload, is always RC4-encrypted.
//
// The padding hides the packet sizes; since its length is not sent, B finds the start of step 3
// by searching for HASH('req1', S) and A finds step 4 by searching for ENCRYPT(VC), each over at
// most 512 bytes of padding plus the pattern (96 + 512 + 20 = 628 bytes from the start of the
// stream for B). Every read step has a deadline and every length a cap, and the handshake keeps
// one fixed buffer of a few hundred bytes, so a hostile peer costs no more than a plain
// handshake does.
//
// RC4 comes from crypto/rc4, which is deprecated because RC4 is broken as a cipher. MSE uses it
// to defeat traffic shaping, not to keep secrets, and every client speaks it, so that is fine
// here. The Diffie-Hellman arithmetic uses math/big, which is not constant-time: the same
// reasoning applies.
package mse

import (
	"crypto/rc4"
	"crypto/sha1"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Method is a bit set of the crypto methods of crypto_provide and crypto_select.
type Method uint32

// The crypto methods. Plaintext obfuscates only the handshake; RC4 encrypts the whole stream.
const (
	Plaintext Method = 1
	RC4       Method = 2
)

// String returns "plaintext", "rc4", "rc4|plaintext", or "none" for a plain BitTorrent
// connection that did not use MSE at all.
func (m Method) String() string {
	var parts []string
	if m&RC4 != 0 {
		parts = append(parts, "rc4")
	}
	if m&Plaintext != 0 {
		parts = append(parts, "plaintext")
	}
	if rest := m &^ (RC4 | Plaintext); rest != 0 {
		parts = append(parts, fmt.Sprintf("%#x", uint32(rest)))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "|")
}

// Errors callers branch on. Anything else is an I/O error (a closed connection, a deadline)
// wrapped with the step that failed.
var (
	// ErrPlainRefused: a plain BitTorrent handshake arrived and the responder requires MSE.
	ErrPlainRefused = errors.New("mse: plain handshake refused")
	// ErrEncryptedRefused: an MSE handshake arrived and the responder accepts none.
	ErrEncryptedRefused = errors.New("mse: encrypted handshake refused")
	// ErrUnknownInfoHash: the obfuscated info-hash matches no torrent of the responder.
	ErrUnknownInfoHash = errors.New("mse: unknown info hash")
	// ErrNoCommonMethod: the peer provides no crypto method we allow, or selected one we did
	// not provide.
	ErrNoCommonMethod = errors.New("mse: no common crypto method")
	// ErrProtocol: the peer broke the protocol (bad public key, no synchronisation pattern
	// within the padding limit, wrong verification constant, padding over 512 bytes).
	ErrProtocol = errors.New("mse: protocol violation")
)

// Protocol constants.
const (
	keyLen      = 96  // bytes of a public value or of S
	maxPad      = 512 // PadA..PadD
	vcLen       = 8
	hashLen     = sha1.Size
	privKeyLen  = 20 // 160-bit private exponent, as the specification recommends
	rc4Discard  = 1024
	maxIALen    = 1<<16 - 1
	defaultStep = 15 * time.Second
)

// prime is the 768-bit MSE modulus; the generator is 2.
var prime, _ = new(big.Int).SetString(
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"+
		"020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"+
		"4FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563", 16)

var generator = big.NewInt(2)

// Req2 returns HASH('req2', infoHash), the value a responder's lookup receives for a torrent.
// A responder serving many torrents keeps a map from Req2 to info-hash.
func Req2(infoHash [20]byte) [20]byte { return hash([]byte("req2"), infoHash[:]) }

func hash(parts ...[]byte) [20]byte {
	h := sha1.New()
	for _, p := range parts {
		h.Write(p)
	}
	var out [20]byte
	h.Sum(out[:0])
	return out
}

// keyPair is one side's Diffie-Hellman exponent and public value.
type keyPair struct {
	priv *big.Int
	pub  [keyLen]byte
}

func newKeyPair(random []byte) keyPair {
	priv := new(big.Int).SetBytes(random)
	var kp keyPair
	kp.priv = priv
	new(big.Int).Exp(generator, priv, prime).FillBytes(kp.pub[:])
	return kp
}

// secret returns S from the peer's public value. Values outside [2, P-2] would make S
// predictable (0, 1 or P-1), so they are refused.
func (kp keyPair) secret(peer []byte) ([keyLen]byte, error) {
	y := new(big.Int).SetBytes(peer)
	limit := new(big.Int).Sub(prime, big.NewInt(1))
	if y.Cmp(big.NewInt(2)) < 0 || y.Cmp(limit) >= 0 {
		return [keyLen]byte{}, errors.New("public key out of range")
	}
	var s [keyLen]byte
	new(big.Int).Exp(y, kp.priv, prime).FillBytes(s[:])
	return s, nil
}

// newCipher returns the RC4 stream HASH(name, S, SKEY) with its first 1024 bytes discarded.
func newCipher(name string, s []byte, skey [20]byte) *rc4.Cipher {
	key := hash([]byte(name), s, skey[:])
	c, err := rc4.NewCipher(key[:])
	if err != nil {
		panic("mse: rc4 refused a 20-byte key: " + err.Error()) // broken invariant
	}
	var discard [rc4Discard]byte
	c.XORKeyStream(discard[:], discard[:])
	return c
}

// pick chooses the method a responder selects: plaintext after the obfuscated handshake
// when both ends allow it, else RC4. A peer that wants RC4 offers only RC4 (swarm under
// Require, libtorrent forced, aria2 --bt-require-crypto); one that offers both has the
// handshake obfuscated, which is what defeats shaping by handshake, and RC4 on every byte
// would cost it and us about 1.9 CPU-seconds per GiB (docs/benchmarks.md, and 37% of a
// leecher's CPU in a swarm of swarm peers). libtorrent chooses the same (prefer_rc4 off).
func pick(provided, allowed Method) Method {
	common := provided & allowed
	switch {
	case common&Plaintext != 0:
		return Plaintext
	case common&RC4 != 0:
		return RC4
	}
	return 0
}
