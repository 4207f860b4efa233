package peer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer/mse"
)

// Encryption (MSE, issue 17) at the session's two handshake points: respondMSE is the
// Incoming hook when the policy allows MSE, and connect tries the ways the policy allows, in
// the order that last worked for the peer.

// way is how one outgoing attempt talks.
type way uint8

const (
	wayPlain way = iota
	wayMSE
)

func (w way) String() string {
	if w == wayMSE {
		return "mse"
	}
	return "plain"
}

// ways lists the attempts for addr in order: under Prefer MSE comes first unless plain is what
// worked last time with this peer.
func (s *Session) ways(addr netip.AddrPort) []way {
	switch s.cfg.Encryption {
	case mse.Off:
		return []way{wayPlain}
	case mse.Require:
		return []way{wayMSE}
	}
	if w, ok := s.encMemory.get(addr); ok && w == wayPlain {
		return []way{wayPlain, wayMSE}
	}
	return []way{wayMSE, wayPlain}
}

// retryOtherWay reports whether a failed attempt may be a refusal of its way: the handshake
// failed after the dial succeeded. A peer that refuses MSE closes on our key (or sends a plain
// handshake, which does not parse as one), and a peer that requires it closes on our plain
// handshake; both look like any broken handshake, so any one is retried the other way once.
func retryOtherWay(ctx context.Context, err error) bool {
	var de *dialError
	return ctx.Err() == nil && !errors.As(err, &de) &&
		!errors.Is(err, ErrSelf) && !errors.Is(err, ErrWrongInfoHash)
}

// dialError is a failure to open the connection at all.
type dialError struct{ err error }

func (e *dialError) Error() string { return "dial: " + e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// encMemory remembers, per peer address, the way that worked when both were tried; it is
// bounded, forgetting an arbitrary entry when full. Safe for concurrent use.
type encMemory struct {
	mu sync.Mutex
	m  map[netip.AddrPort]way
}

const maxEncMemory = 4096

func (e *encMemory) get(addr netip.AddrPort) (way, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	w, ok := e.m[addr]
	return w, ok
}

func (e *encMemory) set(addr netip.AddrPort, w way) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		e.m = map[netip.AddrPort]way{}
	}
	if _, ok := e.m[addr]; !ok && len(e.m) >= maxEncMemory {
		for k := range e.m {
			delete(e.m, k)
			break
		}
	}
	e.m[addr] = w
}

// respondMSE is the Incoming hook for encrypted handshakes: it finds the torrent among the
// session's by the obfuscated info-hash and returns the decrypting connection, whose next bytes
// are the initiator's plain handshake. It runs under the session's handshake deadline.
func (s *Session) respondMSE(ctx context.Context, nc net.Conn, infoHashes []metainfo.Hash) (net.Conn, error) {
	allow, _ := s.cfg.Encryption.Responder()
	lookup := func(req2 [20]byte) ([20]byte, bool) {
		for _, ih := range infoHashes {
			if mse.Req2(ih) == req2 {
				return ih, true
			}
		}
		return [20]byte{}, false
	}
	c, _, err := mse.Respond(ctx, nc, mse.ResponderConfig{
		Lookup: lookup, Allow: allow, StepTimeout: s.cfg.HandshakeTimeout})
	if err != nil {
		return nil, err
	}
	// Respond clears the deadline; the plain handshake inside still needs one.
	if err := c.SetDeadline(time.Now().Add(s.cfg.HandshakeTimeout)); err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	return c, nil
}

// checkMSEInfoHash refuses a plain handshake inside MSE that names another torrent than the
// MSE handshake did.
func checkMSEInfoHash(nc net.Conn, ih metainfo.Hash) error {
	if mc, ok := nc.(*mse.Conn); ok && mc.Method() != 0 && metainfo.Hash(mc.InfoHash()) != ih {
		return ErrWrongInfoHash
	}
	return nil
}

// encryptionOf names how a connection is protected: "rc4", "plaintext" (an MSE handshake,
// then plain messages) or "none".
func encryptionOf(nc net.Conn) mse.Method {
	if mc, ok := nc.(*mse.Conn); ok {
		return mc.Method()
	}
	return 0
}
