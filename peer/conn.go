package peer

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

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
	id int
	nc net.Conn
	// raw, when set, reads and writes nc's TCP socket directly (rawsock_linux.go): nc is
	// plain TCP under its layers. Deadlines and Close still go through nc.
	raw      *rawSocket
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

// maxBatch bounds the messages a reader hands to the loop in one event.
const maxBatch = 64

// readMessages is the connection's reader: it decodes capped messages with an idle deadline,
// charges the download limiter for piece data (which throttles the peer through TCP
// backpressure) and hands the messages to the loop, all those already buffered in one event:
// one hand-off (a wake-up of the loop) per read from the socket rather than per message.
func (s *Swarm) readMessages(ctx context.Context, c *conn) error {
	var src io.Reader = c.nc
	if c.raw != nil {
		src = c.raw
	}
	r := wire.NewReader(src, wire.Limits{NumPieces: s.cfg.Info.NumPieces(), MaxBlock: wire.BlockSize})
	r.SetBlockAlloc(s.disk.blocks.get) // set by startDisk before any connection starts
	var batch *messagesEvent           // from batchPool; the loop puts it back once handled
	flush := func() bool {
		if batch == nil {
			return true
		}
		ok := s.send(ctx, batch)
		batch = nil // the loop owns it now
		return ok
	}
	// The idle deadline is moved at most every Idle/16: setting it costs a lock and a timer
	// update, too much per message.
	var deadline time.Time
	for {
		if now := time.Now(); deadline.Sub(now) < s.cfg.Timeouts.Idle-s.cfg.Timeouts.Idle/16 {
			deadline = now.Add(s.cfg.Timeouts.Idle)
			if err := c.nc.SetReadDeadline(deadline); err != nil {
				return err
			}
		}
		m, err := r.ReadMessage()
		if err != nil {
			if !flush() {
				return ctx.Err()
			}
			return err
		}
		if m.KeepAlive {
			continue
		}
		if m.ID == wire.Piece && s.downLimited() {
			if !flush() { // nothing waits behind the limiter
				return ctx.Err()
			}
			if err := waitN(ctx, s.down, len(m.Block)); err != nil {
				return err
			}
			if err := s.downLane.wait(ctx, len(m.Block)); err != nil {
				return err
			}
		}
		if batch == nil {
			batch = batchPool.Get().(*messagesEvent)
			batch.id = c.id
		}
		batch.ms = append(batch.ms, m)
		if len(batch.ms) < maxBatch && r.Ready() {
			continue
		}
		if !flush() {
			return ctx.Err()
		}
	}
}

// batchPool recycles the readers' message batches (pointers: neither sending one as an
// event nor putting it back allocates); a batch grows to what its connection needs, pieces
// a few at a time, requests up to maxBatch.
var batchPool = sync.Pool{New: func() any { return new(messagesEvent) }}

// downLimited reports whether received piece data waits for a download limiter.
func (s *Swarm) downLimited() bool {
	return s.down.Limit() != rate.Inf || !s.downLane.f.unlimited()
}
