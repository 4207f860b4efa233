package peer

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swarm-bt/swarm/peer/mse"
	"github.com/swarm-bt/swarm/peer/wire"
)

// outQueueLen bounds a connection's send queue; a peer whose queue overflows is dropped so
// that it can never stall the loop. It covers a full request pipeline each way plus a burst
// of haves.
const outQueueLen = 4096

// conn is the part of a connection that the loop shares with the connection's reader and
// writer goroutines. Its fields are set before the goroutines start and only read after,
// except the atomics and once.
type conn struct {
	id       int
	nc       net.Conn
	addr     netip.AddrPort
	peerID   [20]byte
	reserved wire.Reserved // the peer's handshake bits (BEP 10 extension protocol, BEP 6 Fast)
	outgoing bool
	// fast: both sides set the BEP 6 bit. allowedOut lists the pieces the peer may request
	// while we choke it (the allowed_fast set we sent); the writer reads both.
	fast       bool
	allowedOut []uint32
	// encryption is the MSE method of the connection (mse.RC4, mse.Plaintext), 0 for plain.
	encryption mse.Method
	out        chan outMsg
	cancel     context.CancelFunc
	uploaded   atomic.Int64 // piece payload bytes written to the peer
	once       sync.Once
}

// outKind says what the writer does with an outMsg.
type outKind uint8

const (
	outControl  outKind = iota // send the message id (with index, begin, length if it has them)
	outServe                   // send the block index, begin, length from storage
	outUnserve                 // the peer cancelled: forget a queued outServe
	outBitfield                // send our bitfield (bytes given at start)
)

// outMsg is one item of a connection's send queue; it is small so the queue stays cheap.
type outMsg struct {
	kind                 outKind
	id                   wire.ID
	ext                  uint8 // extended: the peer's id for the extension
	index, begin, length uint32
	payload              []byte // extended: the payload, shared read-only
}

// fail reports the connection's end to the loop, once, unless the loop closed it itself
// (cctx done).
func (c *conn) fail(ctx, cctx context.Context, s *Swarm, err error) {
	if cctx.Err() != nil {
		return
	}
	c.once.Do(func() {
		c.cancel()
		s.send(ctx, closedEvent{id: c.id, err: err})
	})
}

// errQueueFull drops a peer that does not read what we send.
var errQueueFull = errors.New("send queue full")

// startConn starts the connection's reader and writer; cancelling the connection's context
// (dropPeer, or Run's end) closes the socket, which ends both.
func (s *Swarm) startConn(ctx context.Context, c *conn, bitfield []byte) {
	cctx, cancel := context.WithCancel(ctx)
	c.cancel = cancel
	context.AfterFunc(cctx, func() { _ = c.nc.Close() })
	w := s.newWriter(c, bitfield)
	s.wg.Go(func() { c.fail(ctx, cctx, s, w.run(cctx)) })
	s.wg.Go(func() { c.fail(ctx, cctx, s, s.readMessages(cctx, c)) })
}

// readMessages is the connection's reader: it decodes capped messages with an idle deadline,
// charges the download limiter for piece data (which throttles the peer through TCP
// backpressure) and hands each message to the loop.
func (s *Swarm) readMessages(ctx context.Context, c *conn) error {
	r := wire.NewReader(c.nc, wire.Limits{NumPieces: s.cfg.Info.NumPieces(), MaxBlock: wire.BlockSize})
	r.SetBlockAlloc(s.disk.blocks.get) // set by startDisk before any connection starts
	for {
		if err := c.nc.SetReadDeadline(time.Now().Add(s.cfg.Timeouts.Idle)); err != nil {
			return err
		}
		m, err := r.ReadMessage()
		if err != nil {
			return err
		}
		if m.KeepAlive {
			continue
		}
		if m.ID == wire.Piece {
			if err := waitN(ctx, s.down, len(m.Block)); err != nil {
				return err
			}
			if err := s.downLane.wait(ctx, len(m.Block)); err != nil {
				return err
			}
		}
		if !s.send(ctx, messageEvent{id: c.id, m: m}) {
			return ctx.Err()
		}
	}
}
