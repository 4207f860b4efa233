package mse_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer/mse"
)

// torrents builds a lookup over n info-hashes, as a session serving many torrents would.
func torrents(n int) ([][20]byte, func([20]byte) ([20]byte, bool)) {
	hashes := make([][20]byte, n)
	byReq2 := make(map[[20]byte][20]byte, n)
	for i := range hashes {
		hashes[i][0], hashes[i][1] = byte(i), byte(i>>8)
		hashes[i][19] = 0xAB
		byReq2[mse.Req2(hashes[i])] = hashes[i]
	}
	return hashes, func(req2 [20]byte) ([20]byte, bool) {
		ih, ok := byReq2[req2]
		return ih, ok
	}
}

func seeded(seed uint64) io.Reader {
	var s [32]byte
	s[0] = byte(seed)
	return rand.NewChaCha8(s)
}

type outcome struct {
	ic   *mse.Conn
	ierr error
	rc   *mse.Conn
	res  mse.Result
	rerr error
}

// handshake runs both sides over a net.Pipe; a side that fails closes its end, as a caller does.
func handshake(t *testing.T, icfg mse.InitiatorConfig, rcfg mse.ResponderConfig) outcome {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	var o outcome
	var wg sync.WaitGroup
	wg.Go(func() {
		o.ic, o.ierr = mse.Initiate(t.Context(), a, icfg)
		if o.ierr != nil {
			_ = a.Close()
		}
	})
	wg.Go(func() {
		o.rc, o.res, o.rerr = mse.Respond(t.Context(), b, rcfg)
		if o.rerr != nil {
			_ = b.Close()
			return
		}
		// Read the initial payload so that the initiator's last write completes on the pipe.
		ia := make([]byte, o.res.InitialPayloadLen)
		if _, err := io.ReadFull(o.rc, ia); err != nil {
			o.rerr = err
		}
	})
	wg.Wait()
	return o
}

// exchange sends n bytes each way at once and checks both arrive intact.
func exchange(t *testing.T, x, y net.Conn, n int) {
	t.Helper()
	src := make([]byte, n)
	for i := range src {
		src[i] = byte(i*7 + i>>8)
	}
	var got [2][]byte
	var errs [4]error
	var wg sync.WaitGroup
	for i, c := range []net.Conn{x, y} {
		wg.Go(func() {
			orig := bytes.Clone(src)
			_, errs[2*i] = c.Write(src)
			if !bytes.Equal(orig, src) {
				errs[2*i] = errors.New("Write changed the caller's buffer")
			}
		})
		wg.Go(func() {
			got[i] = make([]byte, n)
			_, errs[2*i+1] = io.ReadFull(c, got[i])
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	assert.True(t, bytes.Equal(src, got[0]), "initiator received a corrupted stream")
	assert.True(t, bytes.Equal(src, got[1]), "responder received a corrupted stream")
}

func TestHandshakeMethods(t *testing.T) {
	hashes, lookup := torrents(200)
	cases := []struct {
		name    string
		provide mse.Method
		allow   mse.Method
		want    mse.Method
	}{
		{"both offered, both allowed: plaintext", mse.RC4 | mse.Plaintext, mse.RC4 | mse.Plaintext, mse.Plaintext},
		{"both offered, rc4 allowed", mse.RC4 | mse.Plaintext, mse.RC4, mse.RC4},
		{"rc4 only", mse.RC4, mse.RC4, mse.RC4},
		{"rc4 offered, both allowed", mse.RC4, mse.RC4 | mse.Plaintext, mse.RC4},
		{"plaintext only", mse.Plaintext, mse.Plaintext, mse.Plaintext},
		{"both offered, plaintext allowed", mse.RC4 | mse.Plaintext, mse.Plaintext, mse.Plaintext},
	}
	for i, tc := range cases {
		for _, ia := range [][]byte{nil, []byte("initial payload: usually the 68-byte handshake")} {
			t.Run(tc.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					ih := hashes[137]
					o := handshake(t,
						mse.InitiatorConfig{InfoHash: ih, Provide: tc.provide, InitialPayload: ia, Rand: seeded(uint64(i))},
						mse.ResponderConfig{Lookup: lookup, Allow: tc.allow, Rand: seeded(uint64(100 + i))})
					require.NoError(t, o.ierr)
					require.NoError(t, o.rerr)
					assert.Equal(t, tc.want, o.ic.Method())
					assert.Equal(t, tc.want, o.rc.Method())
					assert.Equal(t, tc.want == mse.RC4, o.rc.Encrypted())
					assert.Equal(t, mse.Result{InfoHash: ih, Method: tc.want, InitialPayloadLen: len(ia)}, o.res)
					assert.Equal(t, ih, o.ic.InfoHash())
					assert.Equal(t, ih, o.rc.InfoHash())
					exchange(t, o.ic, o.rc, 100_000)
					// Plain hands the socket over only when nothing is encrypted and
					// nothing read ahead is held back.
					for _, c := range []*mse.Conn{o.ic, o.rc} {
						inner, ok := c.Plain()
						assert.Equal(t, tc.want == mse.Plaintext, ok)
						assert.Equal(t, ok, inner != nil)
					}
				})
			})
		}
	}
}

// TestInitialPayloadReplay checks that the initial payload and the stream that follows it arrive
// in order, including bytes the responder's handshake read ahead.
func TestInitialPayloadReplay(t *testing.T) {
	for _, method := range []mse.Method{mse.RC4, mse.Plaintext} {
		t.Run(method.String(), func(t *testing.T) {
			a, b := net.Pipe()
			defer a.Close()
			defer b.Close()
			ih := [20]byte{1, 2, 3}
			errc := make(chan error, 1)
			go func() {
				c, err := mse.Initiate(t.Context(), a, mse.InitiatorConfig{InfoHash: ih, Provide: method, InitialPayload: []byte("IA-bytes|")})
				if err == nil {
					_, err = c.Write([]byte("stream-bytes"))
				}
				errc <- err
			}()
			rc, res, err := mse.Respond(t.Context(), b, mse.ResponderConfig{
				Lookup: func(r [20]byte) ([20]byte, bool) { return ih, r == mse.Req2(ih) }, Allow: method})
			require.NoError(t, err)
			assert.Equal(t, method, res.Method)
			got := make([]byte, len("IA-bytes|stream-bytes"))
			_, err = io.ReadFull(rc, got)
			require.NoError(t, err)
			require.NoError(t, <-errc)
			assert.Equal(t, "IA-bytes|stream-bytes", string(got))
		})
	}
}

// TestPolicyPairs runs one attempt of each policy against each policy: the initiator's first
// attempt (MSE under prefer and require, plain under off) and what the responder makes of it.
// The pairs that cannot work must fail at once, without waiting for a timeout.
func TestPolicyPairs(t *testing.T) {
	policies := []mse.Policy{mse.Prefer, mse.Require, mse.Off}
	want := map[[2]mse.Policy]error{ // nil: success
		{mse.Prefer, mse.Off}:  mse.ErrEncryptedRefused,
		{mse.Require, mse.Off}: mse.ErrEncryptedRefused,
		{mse.Off, mse.Require}: mse.ErrPlainRefused,
	}
	hashes, lookup := torrents(3)
	for _, ip := range policies {
		for _, rp := range policies {
			t.Run(ip.String()+"-to-"+rp.String(), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					start := time.Now()
					allow, plain := rp.Responder()
					rcfg := mse.ResponderConfig{Lookup: lookup, Allow: allow, AllowPlain: plain}
					var ierr, rerr error
					var rc, ic net.Conn
					if ip == mse.Off {
						ic, rc, ierr, rerr = plainAttempt(t, rcfg)
					} else {
						o := handshake(t, mse.InitiatorConfig{InfoHash: hashes[2], Provide: ip.Provide()}, rcfg)
						ic, rc, ierr, rerr = o.ic, o.rc, o.ierr, o.rerr
					}
					assert.Zero(t, time.Since(start), "the outcome took a timeout")
					wantErr := want[[2]mse.Policy{ip, rp}]
					if wantErr != nil {
						require.ErrorIs(t, rerr, wantErr)
						require.Error(t, ierr)
						return
					}
					require.NoError(t, ierr)
					require.NoError(t, rerr)
					exchange(t, ic, rc, 5000)
				})
			})
		}
	}
}

// plainAttempt sends a plain BitTorrent handshake and reads the responder's reply as a plain
// client does; the responder echoes the handshake.
func plainAttempt(t *testing.T, rcfg mse.ResponderConfig) (ic, rc net.Conn, ierr, rerr error) {
	a, b := net.Pipe()
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	hs := append([]byte("\x13BitTorrent protocol"), make([]byte, 48)...)
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, ierr = a.Write(hs); ierr == nil {
			_, ierr = io.ReadFull(a, make([]byte, len(hs)))
		}
	})
	c, res, err := mse.Respond(t.Context(), b, rcfg)
	rerr = err
	if err != nil {
		_ = b.Close()
		wg.Wait()
		return a, nil, ierr, rerr
	}
	assert.Equal(t, mse.Result{}, res)
	assert.Equal(t, mse.Method(0), c.Method())
	got := make([]byte, len(hs))
	if _, rerr = io.ReadFull(c, got); rerr == nil {
		assert.Equal(t, hs, got, "the detected handshake was not replayed")
		_, rerr = c.Write(got)
	}
	wg.Wait()
	return a, c, ierr, rerr
}

func TestUnknownInfoHash(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, lookup := torrents(50)
		start := time.Now()
		o := handshake(t, mse.InitiatorConfig{InfoHash: [20]byte{0xEE}},
			mse.ResponderConfig{Lookup: lookup, Allow: mse.RC4 | mse.Plaintext})
		require.ErrorIs(t, o.rerr, mse.ErrUnknownInfoHash)
		require.Error(t, o.ierr)
		assert.Zero(t, time.Since(start))
	})
}

// TestStall: a peer that sends its key and then nothing more is dropped after one step timeout
// on either side, and a cancelled context ends a handshake at once.
func TestStall(t *testing.T) {
	const step = 7 * time.Second
	ih := [20]byte{9}
	lookup := func([20]byte) ([20]byte, bool) { return ih, true }
	t.Run("responder waits for step 3", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			a, b := net.Pipe()
			defer a.Close()
			go func() {
				// An initiator that sends a valid public key, reads the reply and goes silent.
				_, _ = a.Write(append([]byte{0x55}, make([]byte, 95)...))
				_, _ = io.Copy(io.Discard, a)
			}()
			start := time.Now()
			_, _, err := mse.Respond(t.Context(), b, mse.ResponderConfig{Lookup: lookup, Allow: mse.RC4, StepTimeout: step})
			require.ErrorIs(t, err, errDeadline)
			assert.Equal(t, step, time.Since(start))
			_ = b.Close()
		})
	})
	t.Run("initiator waits for step 4", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			a, b := net.Pipe()
			defer b.Close()
			go func() {
				// A responder that sends a key, reads everything and never answers step 3.
				_, _ = b.Write(append([]byte{0x55}, make([]byte, 95)...))
				_, _ = io.Copy(io.Discard, b)
			}()
			start := time.Now()
			_, err := mse.Initiate(t.Context(), a, mse.InitiatorConfig{InfoHash: ih, StepTimeout: step})
			require.ErrorIs(t, err, errDeadline)
			assert.Equal(t, step, time.Since(start))
			_ = a.Close()
		})
	})
	t.Run("cancelled", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			a, b := net.Pipe()
			defer b.Close()
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(time.Second, cancel)
			start := time.Now()
			_, err := mse.Initiate(ctx, a, mse.InitiatorConfig{InfoHash: ih, StepTimeout: time.Hour})
			require.ErrorIs(t, err, context.Canceled)
			assert.Equal(t, time.Second, time.Since(start))
			_ = a.Close()
		})
	})
}

var errDeadline = os.ErrDeadlineExceeded
