package mse

import (
	"context"
	"crypto/rand"
	"crypto/rc4"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"
)

// plainPrefix starts every plain BitTorrent handshake: the length 19 and the protocol name.
const plainPrefix = "\x13BitTorrent protocol"

// ResponderConfig configures the accepting side of a handshake.
type ResponderConfig struct {
	// Lookup maps HASH('req2', info-hash) to the info-hash of a torrent we serve (see Req2).
	// It is called at most once per handshake and must be safe for concurrent use.
	Lookup func(req2 [20]byte) (infoHash [20]byte, ok bool)
	// Allow is the set of methods accepted after an MSE header; 0 refuses MSE handshakes.
	// When the initiator offers both, RC4 is chosen.
	Allow Method
	// AllowPlain accepts a plain BitTorrent handshake (no MSE).
	AllowPlain bool
	// Rand supplies the private key and the padding; nil means crypto/rand.
	Rand io.Reader
	// StepTimeout bounds each step (read their key and send ours; read step 3 and send step 4);
	// 0 means 15 s. A context deadline or cancellation also ends the handshake.
	StepTimeout time.Duration
}

// Result describes an accepted handshake.
type Result struct {
	// InfoHash is the torrent the initiator asked for; zero for a plain handshake, whose
	// BitTorrent handshake (the first bytes read from the Conn) names it instead.
	InfoHash [20]byte
	// Method is RC4 or Plaintext after an MSE handshake, 0 for a plain one.
	Method Method
	// InitialPayloadLen is the length of the initiator's initial payload, which the Conn returns
	// first.
	InitialPayloadLen int
}

// Respond runs the accepting side of the handshake on conn. It tells a plain BitTorrent
// handshake from an MSE one by the first 20 bytes and, for a plain one, returns a Conn that
// replays what it read. After an MSE handshake the Conn returns the initial payload (if any) and
// then the initiator's stream. On error the caller closes conn; errors match ErrPlainRefused,
// ErrEncryptedRefused, ErrUnknownInfoHash, ErrNoCommonMethod or ErrProtocol, or wrap the I/O
// error.
func Respond(ctx context.Context, conn net.Conn, cfg ResponderConfig) (*Conn, Result, error) {
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	cfg.Allow &= RC4 | Plaintext
	s := newStream(ctx, conn, cfg.StepTimeout)
	c, res, err := respond(s, &cfg)
	if err = s.finish(ctx, err); err != nil {
		return nil, Result{}, fmt.Errorf("mse respond: %w", err)
	}
	return c, res, nil
}

func respond(s *stream, cfg *ResponderConfig) (*Conn, Result, error) {
	if err := s.begin(); err != nil {
		return nil, Result{}, err
	}
	if err := s.fill(len(plainPrefix)); err != nil {
		return nil, Result{}, fmt.Errorf("read handshake: %w", err)
	}
	if string(s.buf[s.r:s.r+len(plainPrefix)]) == plainPrefix {
		if !cfg.AllowPlain {
			return nil, Result{}, ErrPlainRefused
		}
		return &Conn{Conn: s.conn, pending: s.rest()}, Result{}, nil
	}
	if cfg.Allow == 0 || cfg.Lookup == nil {
		return nil, Result{}, ErrEncryptedRefused
	}
	ya, err := s.next(keyLen)
	if err != nil {
		return nil, Result{}, fmt.Errorf("read public key: %w", err)
	}
	kp, hello, err := newSide(cfg.Rand)
	if err != nil {
		return nil, Result{}, err
	}
	secret, err := kp.secret(ya)
	if err != nil {
		return nil, Result{}, fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	if err := s.send(hello); err != nil {
		return nil, Result{}, err
	}
	if err := s.begin(); err != nil {
		return nil, Result{}, err
	}
	return readStep3(s, cfg, secret[:])
}

// readStep3 finds HASH('req1', S) after PadA, identifies the torrent, reads the offer and
// answers with step 4.
func readStep3(s *stream, cfg *ResponderConfig, secret []byte) (*Conn, Result, error) {
	req1 := hash([]byte("req1"), secret)
	if err := s.sync(req1[:], maxPad); err != nil {
		return nil, Result{}, fmt.Errorf("read request: %w", err)
	}
	x, err := s.next(hashLen)
	if err != nil {
		return nil, Result{}, fmt.Errorf("read request: %w", err)
	}
	req2 := hash([]byte("req3"), secret)
	for i := range req2 {
		req2[i] ^= x[i]
	}
	infoHash, ok := cfg.Lookup(req2)
	if !ok {
		return nil, Result{}, ErrUnknownInfoHash
	}
	dec := newCipher("keyA", secret, infoHash)
	enc := newCipher("keyB", secret, infoHash)
	provided, iaLen, err := readOffer(s, dec)
	if err != nil {
		return nil, Result{}, err
	}
	selected := pick(provided, cfg.Allow)
	if selected == 0 {
		return nil, Result{}, fmt.Errorf("%w: peer provides %v, we allow %v", ErrNoCommonMethod, provided, cfg.Allow)
	}
	reply := make([]byte, vcLen+4+2) // VC, crypto_select, len(PadD) = 0
	binary.BigEndian.PutUint32(reply[vcLen:], uint32(selected))
	enc.XORKeyStream(reply, reply)
	if err := s.send(reply); err != nil {
		return nil, Result{}, err
	}
	c := &Conn{Conn: s.conn, method: selected, infoHash: infoHash, pending: s.rest(), dec: dec, decLeft: int64(iaLen)}
	if selected == RC4 {
		c.enc, c.decLeft = enc, -1
	} else if iaLen == 0 {
		c.dec = nil
	}
	return c, Result{InfoHash: infoHash, Method: selected, InitialPayloadLen: iaLen}, nil
}

// readOffer reads ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), checking VC and the
// padding cap.
func readOffer(s *stream, dec *rc4.Cipher) (Method, int, error) {
	b, err := s.decrypt(dec, vcLen+4+2)
	if err != nil {
		return 0, 0, fmt.Errorf("read offer: %w", err)
	}
	if string(b[:vcLen]) != string(make([]byte, vcLen)) {
		return 0, 0, fmt.Errorf("%w: wrong verification constant", ErrProtocol)
	}
	provided := Method(binary.BigEndian.Uint32(b[vcLen:]))
	padLen := int(binary.BigEndian.Uint16(b[vcLen+4:]))
	if padLen > maxPad {
		return 0, 0, fmt.Errorf("%w: PadC of %d bytes", ErrProtocol, padLen)
	}
	if err := s.discard(dec, padLen); err != nil {
		return 0, 0, fmt.Errorf("read PadC: %w", err)
	}
	b, err = s.decrypt(dec, 2)
	if err != nil {
		return 0, 0, fmt.Errorf("read offer: %w", err)
	}
	return provided, int(binary.BigEndian.Uint16(b)), nil
}
