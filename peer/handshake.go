package peer

import (
	"context"
	"net/netip"
)

// dial connects to addr through the session (which shakes hands); the result goes to the
// loop. It holds one of the session's half-open slots, taken by dialMore, until the
// handshake is over.
func (s *Swarm) dial(ctx context.Context, addr netip.AddrPort) {
	nc, hs, err := s.sess.connect(ctx, s.cfg.InfoHash, addr, s.cfg.Timeouts)
	s.sess.halfOpen.release()
	if err != nil {
		s.send(ctx, dialFailedEvent{addr: addr, err: err})
		return
	}
	if !s.send(ctx, connectedEvent{nc: nc, addr: addr, hs: hs, outgoing: true}) {
		_ = nc.Close()
	}
}
