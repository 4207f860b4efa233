package mse

import (
	"context"
	"crypto/rand"
	"crypto/rc4"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// InitiatorConfig configures the dialling side of a handshake.
type InitiatorConfig struct {
	// InfoHash is the torrent's info-hash (SKEY).
	InfoHash [20]byte
	// Provide is the set of methods offered; 0 means RC4|Plaintext. The responder picks one.
	Provide Method
	// InitialPayload (IA) is sent with step 3, RC4-encrypted, to save a round trip: usually the
	// BitTorrent handshake. At most 65535 bytes.
	InitialPayload []byte
	// Rand supplies the private key and the padding; nil means crypto/rand.
	Rand io.Reader
	// StepTimeout bounds each step (send our key and read theirs; send step 3 and read step 4);
	// 0 means 15 s. A context deadline or cancellation also ends the handshake.
	StepTimeout time.Duration
}

// Initiate runs the dialling side of the handshake on conn and returns the connection to use
// from then on: whatever the caller writes follows the initial payload, and reads start with the
// responder's stream. On error the caller closes conn; errors match ErrNoCommonMethod or
// ErrProtocol where those apply, and wrap the I/O error otherwise (a responder that refuses MSE
// simply closes, which shows as io.EOF or io.ErrUnexpectedEOF).
func Initiate(ctx context.Context, conn net.Conn, cfg InitiatorConfig) (*Conn, error) {
	if cfg.Provide == 0 {
		cfg.Provide = RC4 | Plaintext
	}
	if cfg.Provide&^(RC4|Plaintext) != 0 {
		return nil, fmt.Errorf("mse initiate: unknown methods in %v", cfg.Provide)
	}
	if len(cfg.InitialPayload) > maxIALen {
		return nil, fmt.Errorf("mse initiate: initial payload of %d bytes, limit %d", len(cfg.InitialPayload), maxIALen)
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	s := newStream(ctx, conn, cfg.StepTimeout)
	c, err := initiate(s, &cfg)
	if err = s.finish(ctx, err); err != nil {
		return nil, fmt.Errorf("mse initiate: %w", err)
	}
	return c, nil
}

func initiate(s *stream, cfg *InitiatorConfig) (*Conn, error) {
	if err := s.begin(); err != nil {
		return nil, err
	}
	kp, hello, err := newSide(cfg.Rand)
	if err != nil {
		return nil, err
	}
	if err := s.send(hello); err != nil {
		return nil, err
	}
	yb, err := s.next(keyLen)
	if err != nil {
		return nil, fmt.Errorf("read public key: %w", err)
	}
	secret, err := kp.secret(yb)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	enc := newCipher("keyA", secret[:], cfg.InfoHash)
	dec := newCipher("keyB", secret[:], cfg.InfoHash)
	if err := s.begin(); err != nil {
		return nil, err
	}
	if err := s.send(step3(secret[:], cfg, enc)); err != nil {
		return nil, err
	}
	c, err := readStep4(s, cfg.Provide, enc, dec)
	if err != nil {
		return nil, err
	}
	c.infoHash = cfg.InfoHash
	return c, nil
}

// step3 builds HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S),
// ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA), IA) with an empty PadC, as every client
// sends it.
func step3(secret []byte, cfg *InitiatorConfig, enc *rc4.Cipher) []byte {
	req1 := hash([]byte("req1"), secret)
	req2 := Req2(cfg.InfoHash)
	req3 := hash([]byte("req3"), secret)
	b := make([]byte, 0, 2*hashLen+vcLen+8+len(cfg.InitialPayload))
	b = append(b, req1[:]...)
	for i := range req2 {
		b = append(b, req2[i]^req3[i])
	}
	head := len(b)
	b = append(b, make([]byte, vcLen)...)
	b = binary.BigEndian.AppendUint32(b, uint32(cfg.Provide))
	b = binary.BigEndian.AppendUint16(b, 0) // len(PadC)
	b = binary.BigEndian.AppendUint16(b, uint16(len(cfg.InitialPayload)))
	b = append(b, cfg.InitialPayload...)
	enc.XORKeyStream(b[head:], b[head:])
	return b
}

// readStep4 finds ENCRYPT(VC) after PadB and reads crypto_select and PadD.
func readStep4(s *stream, provided Method, enc, dec *rc4.Cipher) (*Conn, error) {
	var vc [vcLen]byte
	dec.XORKeyStream(vc[:], vc[:])
	if err := s.sync(vc[:], maxPad); err != nil {
		return nil, fmt.Errorf("read reply: %w", err)
	}
	b, err := s.decrypt(dec, 6)
	if err != nil {
		return nil, fmt.Errorf("read reply: %w", err)
	}
	selected := Method(binary.BigEndian.Uint32(b))
	padLen := int(binary.BigEndian.Uint16(b[4:]))
	if selected != RC4 && selected != Plaintext || selected&provided == 0 {
		return nil, fmt.Errorf("%w: peer selected %v, we provided %v", ErrNoCommonMethod, selected, provided)
	}
	if padLen > maxPad {
		return nil, fmt.Errorf("%w: PadD of %d bytes", ErrProtocol, padLen)
	}
	if err := s.discard(dec, padLen); err != nil {
		return nil, fmt.Errorf("read PadD: %w", err)
	}
	c := &Conn{Conn: s.conn, method: selected, pending: s.rest()}
	if selected == RC4 {
		c.enc, c.dec, c.decLeft = enc, dec, -1
	}
	return c, nil
}

// newSide draws a private key and a padding of 0 to 512 random bytes, and returns the key pair
// and the first message: the public value followed by the padding.
func newSide(rnd io.Reader) (keyPair, []byte, error) {
	var seed [privKeyLen + 2]byte
	if _, err := io.ReadFull(rnd, seed[:]); err != nil {
		return keyPair{}, nil, fmt.Errorf("random: %w", err)
	}
	kp := newKeyPair(seed[:privKeyLen])
	if kp.priv.Sign() == 0 {
		return keyPair{}, nil, errors.New("random: zero private key")
	}
	padLen := int(binary.BigEndian.Uint16(seed[privKeyLen:])) % (maxPad + 1)
	msg := make([]byte, keyLen+padLen)
	copy(msg, kp.pub[:])
	if _, err := io.ReadFull(rnd, msg[keyLen:]); err != nil {
		return keyPair{}, nil, fmt.Errorf("random: %w", err)
	}
	return kp, msg, nil
}
