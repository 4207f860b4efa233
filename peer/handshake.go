package peer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/swarm-bt/swarm/peer/wire"
)

// Handshake refusals.
var (
	ErrWrongInfoHash = errors.New("peer: handshake for another torrent")
	ErrSelf          = errors.New("peer: connected to ourselves")
)

// maxPendingAccepts bounds incoming connections still in their handshake.
const maxPendingAccepts = 32

// dial connects to addr and shakes hands; the result goes to the loop.
func (s *Swarm) dial(ctx context.Context, addr netip.AddrPort) {
	nc, hs, err := s.dialHandshake(ctx, addr)
	if err != nil {
		s.send(ctx, dialFailedEvent{addr: addr, err: err})
		return
	}
	if !s.send(ctx, connectedEvent{nc: nc, addr: addr, hs: hs, outgoing: true}) {
		_ = nc.Close()
	}
}

func (s *Swarm) dialHandshake(ctx context.Context, addr netip.AddrPort) (net.Conn, wire.Handshake, error) {
	dctx, cancel := context.WithTimeout(ctx, s.cfg.Timeouts.Dial)
	defer cancel()
	nc, err := s.cfg.Dialer(dctx, "tcp", addr.String())
	if err != nil {
		return nil, wire.Handshake{}, fmt.Errorf("dial: %w", err)
	}
	hs, err := s.handshake(ctx, nc, true)
	if err != nil {
		_ = nc.Close()
		return nil, wire.Handshake{}, err
	}
	return nc, hs, nil
}

// handshake exchanges handshakes under one deadline. An outgoing side writes first; an
// incoming side checks the info-hash before it answers, so it reveals nothing to a stranger.
func (s *Swarm) handshake(ctx context.Context, nc net.Conn, outgoing bool) (wire.Handshake, error) {
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := nc.SetDeadline(time.Now().Add(s.cfg.Timeouts.Handshake)); err != nil {
		return wire.Handshake{}, fmt.Errorf("handshake: %w", err)
	}
	ours := wire.Handshake{InfoHash: s.cfg.InfoHash, PeerID: s.peerID}
	if outgoing {
		if err := wire.WriteHandshake(nc, ours); err != nil {
			return wire.Handshake{}, err
		}
	}
	hs, err := wire.ReadHandshake(nc)
	if err != nil {
		return wire.Handshake{}, err
	}
	switch {
	case hs.InfoHash != s.cfg.InfoHash:
		return wire.Handshake{}, ErrWrongInfoHash
	case hs.PeerID == s.peerID:
		return wire.Handshake{}, ErrSelf
	}
	if !outgoing {
		if err := wire.WriteHandshake(nc, ours); err != nil {
			return wire.Handshake{}, err
		}
	}
	if err := nc.SetDeadline(time.Time{}); err != nil {
		return wire.Handshake{}, fmt.Errorf("handshake: %w", err)
	}
	return hs, nil
}

// acceptLoop accepts incoming connections until ctx ends, which closes the listener.
func (s *Swarm) acceptLoop(ctx context.Context) {
	l := s.cfg.Listener
	stop := context.AfterFunc(ctx, func() { _ = l.Close() })
	defer stop()
	pending := make(chan struct{}, maxPendingAccepts)
	for {
		nc, err := l.Accept()
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("accept stopped: no more incoming connections", "err", err)
			}
			return
		}
		select {
		case pending <- struct{}{}:
		default:
			_ = nc.Close() // too many half-open connections
			continue
		}
		s.wg.Go(func() {
			defer func() { <-pending }()
			s.accept(ctx, nc)
		})
	}
}

// accept shakes hands with an incoming connection; the result goes to the loop.
func (s *Swarm) accept(ctx context.Context, nc net.Conn) {
	hs, err := s.handshake(ctx, nc, false)
	if err != nil {
		s.log.Debug("incoming handshake failed", "peer", nc.RemoteAddr().String(), "err", err)
		_ = nc.Close()
		return
	}
	addr, _ := netip.ParseAddrPort(nc.RemoteAddr().String())
	if !s.send(ctx, connectedEvent{nc: nc, addr: addr, hs: hs}) {
		_ = nc.Close()
	}
}
