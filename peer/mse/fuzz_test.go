package mse

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"time"
)

// feedConn is a connection whose peer sent data and then closed; what we write is dropped.
type feedConn struct{ r *bytes.Reader }

func (c feedConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c feedConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c feedConn) Close() error                     { return nil }
func (c feedConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c feedConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c feedConn) SetDeadline(time.Time) error      { return nil }
func (c feedConn) SetReadDeadline(time.Time) error  { return nil }
func (c feedConn) SetWriteDeadline(time.Time) error { return nil }

func fuzzRand() io.Reader { return rand.NewChaCha8([32]byte{'f', 'u', 'z', 'z'}) }

// fuzzPrefix returns what an honest initiator sends before the fuzzed bytes: nothing (mode 0),
// its public key (mode 1), or its key and the start of step 3, with the fuzzed bytes then
// encrypted under keyA so that they reach the offer parser (mode 2). The responder's key is
// known in advance because its Rand is seeded.
func fuzzPrefix(mode byte, rest []byte) []byte {
	if mode%3 == 0 {
		return rest
	}
	a := newKeyPair([]byte("initiator key"))
	if mode%3 == 1 {
		return append(a.pub[:], rest...)
	}
	b, _, _ := newSide(fuzzRand())
	secret, _ := a.secret(b.pub[:])
	req1, req2, req3 := hash([]byte("req1"), secret[:]), Req2(testHash), hash([]byte("req3"), secret[:])
	out := append(a.pub[:], req1[:]...)
	for i := range req2 {
		out = append(out, req2[i]^req3[i])
	}
	enc := newCipher("keyA", secret[:], testHash)
	tail := bytes.Clone(rest)
	enc.XORKeyStream(tail, tail)
	return append(out, tail...)
}

// FuzzRespond feeds the responder arbitrary bytes at three depths of the handshake. It must
// return (never panic or hang), fail only with an error, and on success hand back a Conn that
// reads no more than was sent.
func FuzzRespond(f *testing.F) {
	offer := func(provide Method, padC, ia int) []byte {
		b := make([]byte, vcLen)
		b = binary.BigEndian.AppendUint32(b, uint32(provide))
		b = binary.BigEndian.AppendUint16(b, uint16(padC))
		b = append(b, make([]byte, padC)...)
		b = binary.BigEndian.AppendUint16(b, uint16(ia))
		return append(b, bytes.Repeat([]byte{'i'}, ia)...)
	}
	f.Add([]byte{0})
	f.Add(append([]byte{0}, plainPrefix+"........................................"...))
	f.Add(append([]byte{1}, make([]byte, 600)...))
	f.Add(append([]byte{2}, offer(RC4, 0, 68)...))
	f.Add(append([]byte{2}, offer(Plaintext, 3, 5)...))
	f.Add(append([]byte{2}, offer(RC4|Plaintext, 513, 0)...))
	f.Add(append([]byte{2}, offer(0x8, 0, 0)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		in := fuzzPrefix(data[0], data[1:])
		conn := feedConn{bytes.NewReader(in)}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		c, res, err := Respond(ctx, conn, ResponderConfig{
			Lookup: testLookup, Allow: RC4 | Plaintext, AllowPlain: true, Rand: fuzzRand()})
		if err != nil {
			if c != nil {
				t.Fatal("a Conn with an error")
			}
			return
		}
		if res.Method != 0 && res.InfoHash != testHash {
			t.Fatalf("accepted for %x", res.InfoHash)
		}
		got, err := io.ReadAll(c)
		if err != nil && !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
		if len(got) > len(in) {
			t.Fatalf("read %d bytes from %d sent", len(got), len(in))
		}
		if res.Method == 0 && !bytes.Equal(got, in) {
			t.Fatal("a plain handshake was not replayed intact")
		}
	})
}

// TestFuzzPrefixReachesOffer keeps FuzzRespond honest: its deepest mode must produce handshakes
// that succeed, or the fuzzer would never get past the synchronisation search.
func TestFuzzPrefixReachesOffer(t *testing.T) {
	body := make([]byte, vcLen)
	body = binary.BigEndian.AppendUint32(body, uint32(Plaintext))
	body = binary.BigEndian.AppendUint16(body, 0)
	body = binary.BigEndian.AppendUint16(body, 5)
	body = append(body, "hello, world"...)
	c, res, err := Respond(t.Context(), feedConn{bytes.NewReader(fuzzPrefix(2, body))}, ResponderConfig{
		Lookup: testLookup, Allow: RC4 | Plaintext, Rand: fuzzRand()})
	if err != nil {
		t.Fatal(err)
	}
	if res != (Result{InfoHash: testHash, Method: Plaintext, InitialPayloadLen: 5}) {
		t.Fatalf("result %+v", res)
	}
	// The initial payload is RC4 and the rest plaintext: the fuzz prefix encrypted all of it, so
	// only the first five bytes come back readable.
	got, _ := io.ReadAll(c)
	if string(got[:5]) != "hello" || string(got[5:]) == ", world" {
		t.Fatalf("read %q", got)
	}
}

// fuzzReplyPrefix returns what an honest responder sends before the fuzzed bytes: nothing
// (mode 0), its public key (mode 1), or its key with the fuzzed bytes encrypted under keyB, so
// that a body starting with eight zero bytes reaches crypto_select and PadD (mode 2). The
// initiator's key is known in advance because its Rand is seeded.
func fuzzReplyPrefix(mode byte, rest []byte) []byte {
	if mode%3 == 0 {
		return rest
	}
	b := newKeyPair([]byte("responder key"))
	if mode%3 == 1 {
		return append(b.pub[:], rest...)
	}
	a, _, _ := newSide(fuzzRand())
	secret, _ := b.secret(a.pub[:])
	tail := bytes.Clone(rest)
	newCipher("keyB", secret[:], testHash).XORKeyStream(tail, tail)
	return append(b.pub[:], tail...)
}

// FuzzInitiate feeds the initiator arbitrary replies at three depths.
func FuzzInitiate(f *testing.F) {
	reply := func(sel Method, padD int) []byte {
		b := make([]byte, vcLen)
		b = binary.BigEndian.AppendUint32(b, uint32(sel))
		b = binary.BigEndian.AppendUint16(b, uint16(padD))
		return append(b, make([]byte, padD)...)
	}
	f.Add([]byte{0})
	f.Add(append([]byte{1}, make([]byte, 600)...))
	f.Add(append([]byte{2}, reply(RC4, 0)...))
	f.Add(append([]byte{2}, append(reply(Plaintext, 7), "stream"...)...))
	f.Add(append([]byte{2}, reply(RC4, 513)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		in := fuzzReplyPrefix(data[0], data[1:])
		c, err := Initiate(context.Background(), feedConn{bytes.NewReader(in)}, InitiatorConfig{
			InfoHash: testHash, Provide: RC4 | Plaintext, InitialPayload: []byte("ia"), Rand: fuzzRand()})
		if err != nil {
			if c != nil {
				t.Fatal("a Conn with an error")
			}
			return
		}
		if m := c.Method(); m != RC4 && m != Plaintext {
			t.Fatalf("method %v", m)
		}
		got, err := io.ReadAll(c)
		if err != nil && !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
		if len(got) > len(in) {
			t.Fatalf("read %d bytes from %d sent", len(got), len(in))
		}
	})
}

// TestFuzzReplyPrefixReachesSelect keeps FuzzInitiate honest, as above.
func TestFuzzReplyPrefixReachesSelect(t *testing.T) {
	body := make([]byte, vcLen)
	body = binary.BigEndian.AppendUint32(body, uint32(Plaintext))
	body = binary.BigEndian.AppendUint16(body, 2)
	body = append(body, "pd"...)
	c, err := Initiate(t.Context(), feedConn{bytes.NewReader(fuzzReplyPrefix(2, body))}, InitiatorConfig{
		InfoHash: testHash, Rand: fuzzRand()})
	if err != nil {
		t.Fatal(err)
	}
	if c.Method() != Plaintext {
		t.Fatalf("method %v", c.Method())
	}
}
