package mse

import (
	"bytes"
	"crypto/rc4"
	"encoding/binary"
	"io"
	"math/big"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testHash = [20]byte{0xC0, 0xFF, 0xEE}

func testLookup(req2 [20]byte) ([20]byte, bool) { return testHash, req2 == Req2(testHash) }

// countConn counts the bytes read through it.
type countConn struct {
	net.Conn
	n atomic.Int64
}

func (c *countConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// scripted is a hand-written peer: it exchanges public values honestly and then sends what
// the case builds from the shared secret, while draining whatever the side under test sends.
type scripted struct {
	pub   []byte // our public value; nil means an honest one
	build func(secret []byte) []byte
	hold  bool // keep reading until the other side closes, instead of closing after build
}

func (sc scripted) run(conn net.Conn, initiator bool) {
	defer conn.Close()
	kp := newKeyPair([]byte{7, 7, 7, 7, 7, 7, 7})
	pub := sc.pub
	if pub == nil {
		pub = kp.pub[:]
	}
	theirs := make([]byte, keyLen)
	if initiator {
		if _, err := conn.Write(pub); err != nil || len(pub) < keyLen {
			return
		}
	}
	if _, err := io.ReadFull(conn, theirs); err != nil {
		return
	}
	drained := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, conn); close(drained) }()
	if !initiator {
		if _, err := conn.Write(pub); err != nil {
			return
		}
	}
	secret, err := kp.secret(theirs)
	if err != nil {
		return
	}
	_, _ = conn.Write(sc.build(secret[:]))
	if sc.hold {
		<-drained
	}
}

// offer builds an initiator's step 3 with the given fields, encrypted under keyA of skey.
func offer(secret []byte, skey [20]byte, vc []byte, provide Method, padC []byte, padLen int, tail []byte) []byte {
	req1 := hash([]byte("req1"), secret)
	req2, req3 := Req2(testHash), hash([]byte("req3"), secret)
	b := append([]byte(nil), req1[:]...)
	for i := range req2 {
		b = append(b, req2[i]^req3[i])
	}
	enc := newCipher("keyA", secret, skey)
	plain := append([]byte(nil), vc...)
	plain = binary.BigEndian.AppendUint32(plain, uint32(provide))
	plain = binary.BigEndian.AppendUint16(plain, uint16(padLen))
	plain = append(plain, padC...)
	plain = append(plain, tail...)
	enc.XORKeyStream(plain, plain)
	return append(b, plain...)
}

// reply builds a responder's step 4 after padB, encrypted under keyB.
func reply(secret []byte, padB []byte, sel Method, padLen int, padD []byte) []byte {
	enc := newCipher("keyB", secret, testHash)
	plain := make([]byte, vcLen)
	plain = binary.BigEndian.AppendUint32(plain, uint32(sel))
	plain = binary.BigEndian.AppendUint16(plain, uint16(padLen))
	plain = append(plain, padD...)
	enc.XORKeyStream(plain, plain)
	return append(bytes.Clone(padB), plain...)
}

func bigBytes(x *big.Int) []byte { return x.FillBytes(make([]byte, keyLen)) }

func TestHostileInitiator(t *testing.T) {
	zeroVC := make([]byte, vcLen)
	ia2 := []byte{0, 0}
	pMinus1 := new(big.Int).Sub(prime, big.NewInt(1))
	cases := []struct {
		name string
		peer scripted
		want error // matched with ErrorIs
	}{
		{"valid", scripted{build: func(s []byte) []byte {
			return append(make([]byte, 512), offer(s, testHash, zeroVC, RC4, nil, 0, ia2)...)
		}, hold: true}, nil},
		{"PadA over 512 bytes", scripted{build: func(s []byte) []byte {
			return append(make([]byte, 513), offer(s, testHash, zeroVC, RC4, nil, 0, ia2)...)
		}}, ErrProtocol},
		{"PadA truncated", scripted{build: func([]byte) []byte { return make([]byte, 200) }}, io.ErrUnexpectedEOF},
		{"garbage after the key", scripted{build: func([]byte) []byte {
			return bytes.Repeat([]byte{0x5A, 0xA5, 0x13}, 2000)
		}}, ErrProtocol},
		{"PadC over 512 bytes", scripted{build: func(s []byte) []byte {
			return offer(s, testHash, zeroVC, RC4, make([]byte, 600), 513, ia2)
		}}, ErrProtocol},
		{"PadC truncated", scripted{build: func(s []byte) []byte {
			return offer(s, testHash, zeroVC, RC4, make([]byte, 100), 300, nil)
		}}, io.ErrUnexpectedEOF},
		{"PadC of 512 bytes is fine", scripted{build: func(s []byte) []byte {
			return offer(s, testHash, zeroVC, RC4, make([]byte, 512), 512, ia2)
		}, hold: true}, nil},
		{"wrong verification constant", scripted{build: func(s []byte) []byte {
			return offer(s, testHash, []byte{0, 0, 0, 0, 0, 0, 0, 1}, RC4, nil, 0, ia2)
		}}, ErrProtocol},
		{"keys of another torrent", scripted{build: func(s []byte) []byte {
			return offer(s, [20]byte{1}, zeroVC, RC4, nil, 0, ia2)
		}}, ErrProtocol},
		{"unknown method only", scripted{build: func(s []byte) []byte {
			return offer(s, testHash, zeroVC, 0x10, nil, 0, ia2)
		}}, ErrNoCommonMethod},
		{"public key 1", scripted{pub: bigBytes(big.NewInt(1)), build: func([]byte) []byte { return nil }}, ErrProtocol},
		{"public key P-1", scripted{pub: bigBytes(pMinus1), build: func([]byte) []byte { return nil }}, ErrProtocol},
		{"public key P", scripted{pub: bigBytes(prime), build: func([]byte) []byte { return nil }}, ErrProtocol},
		{"truncated key", scripted{pub: make([]byte, 50), build: func([]byte) []byte { return nil }}, io.ErrUnexpectedEOF},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := net.Pipe()
				cb := &countConn{Conn: b}
				var wg sync.WaitGroup
				wg.Go(func() { tc.peer.run(a, true) })
				c, res, err := Respond(t.Context(), cb, ResponderConfig{Lookup: testLookup, Allow: RC4})
				_ = b.Close()
				wg.Wait()
				assert.LessOrEqual(t, cb.n.Load(), int64(keyLen+bufLen+maxPad+100), "read too far")
				if tc.want == nil {
					require.NoError(t, err)
					assert.Equal(t, RC4, c.Method())
					assert.Equal(t, testHash, res.InfoHash)
					return
				}
				require.ErrorIs(t, err, tc.want)
			})
		})
	}
}

func TestHostileResponder(t *testing.T) {
	pad := func(n int) []byte { return bytes.Repeat([]byte{0xAA}, n) }
	cases := []struct {
		name    string
		provide Method
		hold    bool
		build   func(s []byte) []byte
		want    error
	}{
		{"valid", RC4, true, func(s []byte) []byte { return reply(s, pad(512), RC4, 3, pad(3)) }, nil},
		{"PadB over 512 bytes", RC4, false, func(s []byte) []byte { return reply(s, pad(513), RC4, 0, nil) }, ErrProtocol},
		{"garbage after the key", RC4, false, func([]byte) []byte { return pad(4000) }, ErrProtocol},
		{"PadD over 512 bytes", RC4, false, func(s []byte) []byte { return reply(s, nil, RC4, 513, pad(513)) }, ErrProtocol},
		{"PadD truncated", RC4, false, func(s []byte) []byte { return reply(s, nil, RC4, 400, pad(10)) }, io.ErrUnexpectedEOF},
		{"selects what we did not provide", RC4, false, func(s []byte) []byte { return reply(s, nil, Plaintext, 0, nil) }, ErrNoCommonMethod},
		{"selects two methods", RC4 | Plaintext, false, func(s []byte) []byte { return reply(s, nil, RC4|Plaintext, 0, nil) }, ErrNoCommonMethod},
		{"closes after its key", RC4, false, func([]byte) []byte { return nil }, io.ErrUnexpectedEOF},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := net.Pipe()
				var wg sync.WaitGroup
				wg.Go(func() { scripted{build: tc.build, hold: tc.hold}.run(b, false) })
				c, err := Initiate(t.Context(), a, InitiatorConfig{InfoHash: testHash, Provide: tc.provide})
				_ = a.Close()
				wg.Wait()
				if tc.want == nil {
					require.NoError(t, err)
					assert.Equal(t, RC4, c.Method())
					return
				}
				require.ErrorIs(t, err, tc.want)
			})
		})
	}
}

// TestKeyAgreement checks the DH arithmetic against the specification's definition: both sides
// derive the same S, and the RC4 streams discard exactly 1024 bytes.
func TestKeyAgreement(t *testing.T) {
	a := newKeyPair([]byte{1, 2, 3, 4, 5})
	b := newKeyPair([]byte{9, 8, 7, 6, 5, 4})
	sa, err := a.secret(b.pub[:])
	require.NoError(t, err)
	sb, err := b.secret(a.pub[:])
	require.NoError(t, err)
	assert.Equal(t, sa, sb)
	want := new(big.Int).Exp(generator, new(big.Int).Mul(a.priv, b.priv), prime)
	assert.Equal(t, bigBytes(want), sa[:])

	key := hash([]byte("keyA"), sa[:], testHash[:])
	raw, _ := rc4.NewCipher(key[:])
	stream := make([]byte, 1024+16)
	raw.XORKeyStream(stream, stream)
	got := make([]byte, 16)
	newCipher("keyA", sa[:], testHash).XORKeyStream(got, got)
	assert.Equal(t, stream[1024:], got)
}

// TestPick: the responder's crypto_select. Plaintext after the obfuscated handshake whenever
// both ends allow it (libtorrent's choice with prefer_rc4 off: RC4 on every byte is for peers
// that insist), RC4 when it is the only common method, nothing when none is common.
func TestPick(t *testing.T) {
	for _, tc := range []struct{ provided, allowed, want Method }{
		{RC4 | Plaintext, RC4 | Plaintext, Plaintext}, // prefer to prefer
		{RC4, RC4 | Plaintext, RC4},                   // a peer that requires RC4, to prefer
		{RC4 | Plaintext, RC4, RC4},                   // prefer, to require
		{Plaintext, RC4, 0},
		{RC4, Plaintext, 0},
		{0, RC4 | Plaintext, 0},
		{RC4 | Plaintext | 0xf0, RC4 | Plaintext, Plaintext}, // unknown bits ignored
	} {
		if got := pick(tc.provided, tc.allowed); got != tc.want {
			t.Errorf("pick(%v, %v) = %v, want %v", tc.provided, tc.allowed, got, tc.want)
		}
	}
}
