package peer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer/mse"
	"github.com/swarm-bt/swarm/peer/wire"
)

// This file holds every handshake of the session: incoming connections are read, routed by
// info-hash and answered here (handshakeIncoming), and every outgoing connection is dialled
// and shaken here (connect). Encryption (MSE) plugs in at these two places only.

// Handshake refusals.
var (
	// ErrWrongInfoHash: the handshake names a torrent that the session does not have (an
	// incoming one) or another torrent than the one dialled for (an outgoing one).
	ErrWrongInfoHash = errors.New("peer: handshake for another torrent")
	// ErrSelf: the connection reached ourselves.
	ErrSelf = errors.New("peer: connected to ourselves")
)

// IncomingHook takes over an incoming connection that does not start with a plain
// BitTorrent handshake (an encrypted one, MSE). nc replays every byte the session read. The
// hook returns the connection to go on with, whose next bytes are the plain handshake, or an
// error, and the session closes nc. infoHashes lists the session's torrents (an MSE
// responder matches the stream's SKEY against them). It runs under the handshake deadline,
// which ctx's end also triggers.
type IncomingHook func(ctx context.Context, nc net.Conn, infoHashes []metainfo.Hash) (net.Conn, error)

// handshakeIncoming reads the first bytes: a plain handshake starts with 19 and "BitTorrent
// protocol"; anything else goes to the Incoming hook. It answers only a handshake for one of
// our torrents, so it reveals nothing to a stranger, and never one with our own peer ID. A
// connection from ourselves comes from the local address of one of our dials: the address
// that dial went to is ours, and is never dialled again.
func (s *Session) handshakeIncoming(ctx context.Context, nc net.Conn) (net.Conn, wire.Handshake, *Swarm, error) {
	var hs wire.Handshake
	var sw *Swarm
	err := withDeadline(ctx, nc, s.cfg.HandshakeTimeout, func() error {
		c, r, err := s.plainStream(ctx, nc)
		if err != nil {
			return err
		}
		nc = c
		if hs, err = wire.ReadHandshake(r); err != nil {
			return err
		}
		if sw = s.lookup(hs.InfoHash); sw == nil {
			return ErrWrongInfoHash
		}
		if err := checkMSEInfoHash(nc, hs.InfoHash); err != nil {
			return err
		}
		if hs.PeerID == s.peerID {
			s.self.fromDial(nc.RemoteAddr())
			return ErrSelf
		}
		return wire.WriteHandshake(nc, s.ours(hs.InfoHash))
	})
	return nc, hs, sw, err
}

// plainStream returns the connection to read the plain handshake from and a reader that
// starts with it.
func (s *Session) plainStream(ctx context.Context, nc net.Conn) (net.Conn, io.Reader, error) {
	var head [1 + len(wire.Protocol)]byte
	n := 1
	if _, err := io.ReadFull(nc, head[:1]); err != nil {
		return nil, nil, fmt.Errorf("read handshake: %w", err)
	}
	if head[0] == byte(len(wire.Protocol)) {
		if _, err := io.ReadFull(nc, head[1:]); err != nil {
			return nil, nil, fmt.Errorf("read handshake: %w", err)
		}
		n = len(head)
	}
	replay := newReplayConn(nc, head[:n])
	if n == len(head) && string(head[1:]) == wire.Protocol {
		if s.cfg.Encryption == mse.Require {
			return nil, nil, mse.ErrPlainRefused
		}
		return nc, replay, nil
	}
	if s.cfg.Incoming == nil {
		return nil, nil, fmt.Errorf("read handshake: %w", wire.ErrBadProtocol)
	}
	c, err := s.cfg.Incoming(ctx, replay, s.infoHashes())
	if err != nil {
		return nil, nil, fmt.Errorf("incoming hook: %w", err)
	}
	return c, c, nil
}

// ours is the handshake we send for torrent ih.
func (s *Session) ours(ih metainfo.Hash) wire.Handshake {
	return wire.Handshake{Reserved: s.reserved, InfoHash: ih, PeerID: s.peerID}
}

// connect is the one function that makes outgoing connections: it dials addr through the
// Dialer and shakes hands for torrent ih, writing first, plain or encrypted as the policy
// says (Encryption); under Prefer a peer that refuses the first way is dialled again the other
// way, once, and the way that worked is tried first next time. An address that turns out to
// be ourselves (our own peer ID answers, or our accept side sees the dial arrive) is
// remembered and never dialled again, for any torrent.
func (s *Session) connect(ctx context.Context, ih metainfo.Hash, addr netip.AddrPort, t Timeouts) (net.Conn, wire.Handshake, error) {
	ways := s.ways(addr)
	var first error
	for i, w := range ways {
		nc, hs, err := s.connectWay(ctx, ih, addr, t, w)
		if err == nil {
			if len(ways) > 1 {
				s.encMemory.set(addr, w)
			}
			return nc, hs, nil
		}
		if first != nil {
			err = fmt.Errorf("%w (%s first: %v)", err, ways[0], first)
		}
		if i == len(ways)-1 || !retryOtherWay(ctx, err) {
			return nil, wire.Handshake{}, err
		}
		s.log.Debug("handshake failed; trying the other way", "peer", addr, "way", w, "err", err)
		first = err
	}
	panic("peer: connect without a way") // ways never returns an empty list
}

// connectWay makes one attempt: plain, or MSE with our handshake as its initial payload.
func (s *Session) connectWay(ctx context.Context, ih metainfo.Hash, addr netip.AddrPort, t Timeouts, w way) (net.Conn, wire.Handshake, error) {
	dctx, cancel := context.WithTimeout(ctx, t.Dial)
	nc, err := s.cfg.Dialer(dctx, "tcp", addr.String())
	cancel()
	if err != nil {
		return nil, wire.Handshake{}, &dialError{err}
	}
	defer s.self.dialing(nc.LocalAddr(), addr)()
	if w == wayMSE {
		mc, err := mse.Initiate(ctx, nc, mse.InitiatorConfig{InfoHash: ih, Provide: s.cfg.Encryption.Provide(),
			InitialPayload: wire.AppendHandshake(nil, s.ours(ih)), StepTimeout: t.Handshake})
		if err != nil {
			_ = nc.Close()
			return nil, wire.Handshake{}, err
		}
		nc = mc
	}
	var hs wire.Handshake
	err = withDeadline(ctx, nc, t.Handshake, func() error {
		if w == wayPlain {
			if err := wire.WriteHandshake(nc, s.ours(ih)); err != nil {
				return err
			}
		}
		if hs, err = wire.ReadHandshake(nc); err != nil {
			return err
		}
		switch {
		case hs.PeerID == s.peerID:
			return ErrSelf
		case hs.InfoHash != ih:
			return ErrWrongInfoHash
		}
		return nil
	})
	if err != nil {
		_ = nc.Close()
		if errors.Is(err, ErrSelf) {
			s.self.add(addr)
		}
		if s.self.has(addr) {
			s.log.Info("address is ourselves: not dialled again", "peer", addr)
			return nil, wire.Handshake{}, fmt.Errorf("%w: %w", ErrSelf, err)
		}
		return nil, wire.Handshake{}, err
	}
	return nc, hs, nil
}

// isSelf reports whether addr reaches this session.
func (s *Session) isSelf(addr netip.AddrPort) bool { return s.self.has(addr) }

// withDeadline runs f under a deadline of d on nc, which ctx's end brings forward, and clears
// the deadline after a success.
func withDeadline(ctx context.Context, nc net.Conn, d time.Duration, f func() error) error {
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := nc.SetDeadline(time.Now().Add(d)); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	if err := f(); err != nil {
		return err
	}
	if err := nc.SetDeadline(time.Time{}); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	return nil
}

// replayConn is a connection whose first reads return bytes already read from it (head).
type replayConn struct {
	net.Conn
	head *bytes.Reader
}

func newReplayConn(nc net.Conn, head []byte) *replayConn {
	return &replayConn{Conn: nc, head: bytes.NewReader(head)}
}

// Read implements net.Conn.
func (c *replayConn) Read(p []byte) (int, error) {
	if c.head.Len() > 0 {
		return c.head.Read(p)
	}
	return c.Conn.Read(p)
}
