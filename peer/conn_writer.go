package peer

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"time"

	"golang.org/x/time/rate"

	"github.com/swarm-bt/swarm/peer/storage"
	"github.com/swarm-bt/swarm/peer/wire"
)

// serveBatch is how many contiguous queued blocks a writer reads with one vectored read and
// sends with one write (see serveOne).
const serveBatch = 8

// writeBufferSize is the writer's buffer: a batch of blocks with their headers, and room
// for protocol messages, per write system call.
const writeBufferSize = serveBatch*(wire.BlockSize+13) + 1<<10

// maxServeQueue bounds the requests a peer may have queued with us (memory: about 70 bytes
// each, about 1 MiB a peer), and is the reqq we advertise (BEP 10). BEP 3 sets no limit, and
// a client told no reqq sizes its queue to its rate: Transmission keeps about 10 s worth
// outstanding, over 2,048 requests above 3.4 MB/s and 11,133 at most when it downloaded
// 256 MiB from us on loopback (13 MB/s). Requests beyond it are dropped or rejected
// (overflow), never a reason to close the connection.
const maxServeQueue = 16384

// writer owns all writes to one connection. It writes protocol messages first and serves
// queued requests (piece data) after them; only piece data waits for the upload limiter, and
// while it waits, protocol messages still go out. Output is buffered and flushed when there
// is nothing left to write.
type writer struct {
	c         *conn
	bw        *bufio.Writer
	st        storage.Storage
	pieceLen  int64
	lim       *rate.Limiter // the torrent's own limit
	lane      *lane         // the torrent's share of the session's global limit
	keepAlive time.Duration
	bitfield  []byte

	ctrl  []outMsg // protocol messages to send, in order
	serve []outMsg // requests to serve, in order: a window of serveArr
	// serveArr is serve's whole array (see enqueue).
	serveArr []outMsg
	// queued holds the requests in serve: a copy of a request already queued is ignored (as
	// libtorrent does), so repeating one request cannot multiply what we upload.
	queued  map[blockKey]struct{}
	cur     outMsg // the request being served, while waiting for the limiter
	curOK   bool   // cur is still wanted (not cancelled, not choked)
	dropped int    // requests dropped by overflow
	log     *slog.Logger
	batch   []outMsg // scratch of serveOne
	iov     [][]byte // scratch of writePieces
}

func (s *Swarm) newWriter(c *conn, bitfield []byte) *writer {
	return &writer{
		c:         c,
		bw:        bufio.NewWriterSize(deadlineWriter{nc: c.nc, raw: c.raw, timeout: s.cfg.Timeouts.Idle}, writeBufferSize),
		st:        s.cfg.Storage,
		pieceLen:  s.cfg.Info.PieceLength,
		lim:       s.up,
		lane:      s.upLane,
		keepAlive: s.cfg.Timeouts.KeepAlive,
		bitfield:  bitfield,
		queued:    map[blockKey]struct{}{},
		log:       s.log.With("peer", c.addr),
	}
}

// run writes until ctx ends (nil) or a write fails.
func (w *writer) run(ctx context.Context) error {
	if len(w.bitfield) > 0 {
		w.ctrl = append(w.ctrl, outMsg{kind: outBitfield})
	}
	idle := time.NewTimer(w.keepAlive)
	defer idle.Stop()
	for {
		if err := w.drain(); err != nil {
			return err
		}
		if err := w.writeCtrl(); err != nil {
			return err
		}
		if len(w.serve) > 0 {
			if err := w.serveOne(ctx); err != nil {
				return err
			}
			continue
		}
		if err := w.flush(); err != nil {
			return err
		}
		idle.Reset(w.keepAlive)
		select {
		case m := <-w.c.out:
			if err := w.accept(m); err != nil {
				return err
			}
		case <-idle.C:
			w.ctrl = append(w.ctrl, outMsg{kind: outControl, id: keepAliveID})
		case <-ctx.Done():
			return nil
		}
	}
}

// pop takes the first queued request off the queue.
func (w *writer) pop() outMsg {
	m := w.serve[0]
	w.serve = w.serve[1:]
	if len(w.serve) == 0 {
		w.serve = w.serveArr[:0]
	}
	delete(w.queued, keyOf(m))
	return m
}

// blockKey names a requested block.
type blockKey struct{ index, begin, length uint32 }

func keyOf(m outMsg) blockKey { return blockKey{m.index, m.begin, m.length} }

// keepAliveID marks a keep-alive in the control queue (no real message has this ID).
const keepAliveID wire.ID = 255

// drain moves everything queued by the loop into the writer's own queues, without blocking.
func (w *writer) drain() error {
	for {
		select {
		case m := <-w.c.out:
			if err := w.accept(m); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

// accept files one message from the loop.
func (w *writer) accept(m outMsg) error {
	switch m.kind {
	case outServe:
		k := keyOf(m)
		if _, dup := w.queued[k]; dup {
			return nil
		}
		if len(w.serve) >= maxServeQueue {
			w.overflow(m)
			return nil
		}
		w.enqueue(m)
		w.queued[k] = struct{}{}
	case outUnserve:
		w.unserve(m)
	default:
		if m.kind == outControl && m.id == wire.Choke {
			w.ctrl = append(w.ctrl, m)
			w.choked()
			return nil
		}
		w.ctrl = append(w.ctrl, m)
	}
	return nil
}

// enqueue appends m to the serve queue without allocating in the steady state (see
// pushWindow).
func (w *writer) enqueue(m outMsg) { w.serve = pushWindow(&w.serveArr, w.serve, m) }

// overflow handles a request beyond the serve queue's cap: it is dropped and the connection
// kept (the peer times it out and asks again). This is the one place that answers such a
// request, so it is where a reject_request goes once the Fast extension (BEP 6) is
// negotiated.
func (w *writer) overflow(m outMsg) {
	if w.c.fast {
		w.reject(m)
		return
	}
	if w.dropped == 0 {
		w.log.Debug("requests beyond the queue cap dropped", "cap", maxServeQueue)
	}
	w.dropped++
}

// unserve forgets a cancelled request; with the Fast extension a cancelled request still
// gets an answer (BEP 6), so it is rejected.
func (w *writer) unserve(m outMsg) {
	k := keyOf(m)
	same := func(q outMsg) bool { return keyOf(q) == k }
	_, queued := w.queued[k]
	w.serve = slices.DeleteFunc(w.serve, same)
	delete(w.queued, k)
	if w.curOK && same(w.cur) {
		w.curOK, queued = false, true
	}
	if queued && w.c.fast {
		w.reject(m)
	}
}

// choked drops the queued requests as we choke the peer (BEP 3). With the Fast extension
// each is rejected instead (BEP 6), except those for pieces of its allowed_fast set, which
// are still served.
func (w *writer) choked() {
	if !w.c.fast {
		w.serve = w.serve[:0]
		clear(w.queued)
		w.curOK = false
		return
	}
	if w.curOK && !slices.Contains(w.c.allowedOut, w.cur.index) {
		w.curOK = false
		w.reject(w.cur)
	}
	w.serve = slices.DeleteFunc(w.serve, func(q outMsg) bool {
		if slices.Contains(w.c.allowedOut, q.index) {
			return false
		}
		delete(w.queued, keyOf(q))
		w.reject(q)
		return true
	})
}

// reject queues a reject_request for m (BEP 6).
func (w *writer) reject(m outMsg) {
	w.ctrl = append(w.ctrl, outMsg{kind: outControl, id: wire.RejectRequest, index: m.index, begin: m.begin, length: m.length})
}

// writeCtrl writes the queued protocol messages.
func (w *writer) writeCtrl() error {
	for _, m := range w.ctrl {
		var err error
		switch {
		case m.kind == outBitfield:
			_, err = w.bw.Write(wire.AppendMessage(w.bw.AvailableBuffer(), wire.Message{ID: wire.BitfieldID, Bitfield: w.bitfield}))
			w.bitfield = nil
		case m.id == keepAliveID:
			_, err = w.bw.Write(wire.AppendMessage(w.bw.AvailableBuffer(), wire.Message{KeepAlive: true}))
		default:
			msg := wire.Message{ID: m.id, Index: m.index, Begin: m.begin, Length: m.length, ExtID: m.ext, Payload: m.payload}
			if m.id == wire.Port {
				msg.Port = uint16(m.index) // the port rides in index: outMsg stays small
			}
			_, err = w.bw.Write(wire.AppendMessage(w.bw.AvailableBuffer(), msg))
		}
		if err != nil {
			return fmt.Errorf("write %v: %w", m.id, err)
		}
	}
	w.ctrl = w.ctrl[:0]
	return nil
}

// serveOne sends the first queued block, after the upload limiter allows it. Without upload
// limits, the queued requests that follow it on disk go with it (up to serveBatch): a peer
// asks for a piece's blocks in order, so a seed reads several at once and sends them in one
// write.
func (w *writer) serveOne(ctx context.Context) error {
	w.cur, w.curOK = w.pop(), true
	if err := w.charge(ctx, int(w.cur.length)); err != nil {
		return err
	}
	if !w.curOK {
		return nil
	}
	w.curOK = false
	w.batch = append(w.batch[:0], w.cur)
	if w.lim.Limit() == rate.Inf && w.lane.f.unlimited() {
		end := w.offset(w.cur) + int64(w.cur.length)
		for len(w.batch) < serveBatch && len(w.serve) > 0 && w.offset(w.serve[0]) == end {
			m := w.pop()
			w.batch = append(w.batch, m)
			end += int64(m.length)
		}
	}
	return w.writePieces(w.batch)
}

// offset is where m's block starts in the payload.
func (w *writer) offset(m outMsg) int64 { return int64(m.index)*w.pieceLen + int64(m.begin) }

// writePieces reads blocks that follow each other on disk straight into the write buffer,
// each behind its header, with one vectored read.
func (w *writer) writePieces(ms []outMsg) error {
	need := 0
	for _, m := range ms {
		need += 13 + int(m.length)
	}
	if w.bw.Available() < need {
		if err := w.flush(); err != nil {
			return err
		}
	}
	buf := w.bw.AvailableBuffer()
	w.iov = w.iov[:0]
	for _, m := range ms {
		n := int(m.length)
		buf = wire.AppendPieceHeader(buf, m.index, m.begin, n)
		w.iov = append(w.iov, buf[len(buf):len(buf)+n])
		buf = buf[:len(buf)+n]
	}
	if k, err := storage.ReadVec(w.st, w.iov, w.offset(ms[0])); k < need-13*len(ms) {
		m := ms[0]
		return fmt.Errorf("read %d blocks from block %d+%d of piece %d: %w", len(ms), m.begin, m.length, m.index, err)
	}
	clear(w.iov) // drop the references into the buffer
	if _, err := w.bw.Write(buf); err != nil {
		return fmt.Errorf("write piece: %w", err)
	}
	w.c.uploaded.Add(int64(need - 13*len(ms)))
	return nil
}

// charge waits until the torrent's limiter, then the session's global one, grant n bytes,
// writing protocol messages meanwhile.
func (w *writer) charge(ctx context.Context, n int) error {
	if err := w.chargeOwn(ctx, n); err != nil {
		return err
	}
	return w.chargeGlobal(ctx, n)
}

func (w *writer) chargeOwn(ctx context.Context, n int) error {
	if w.lim.Limit() == rate.Inf {
		return nil
	}
	for n > 0 {
		k := min(n, w.lim.Burst())
		if k <= 0 {
			return errBurst
		}
		r := w.lim.ReserveN(time.Now(), k)
		if !r.OK() {
			return errBurst
		}
		if d := r.Delay(); d > 0 {
			t := time.NewTimer(d)
			err := sleepWriting(ctx, w, t.C)
			t.Stop()
			if err != nil {
				r.Cancel()
				return err
			}
		}
		n -= k
	}
	return nil
}

func (w *writer) chargeGlobal(ctx context.Context, n int) error {
	f := w.lane.f
	for n > 0 && !f.unlimited() {
		k := min(n, f.lim.Burst())
		if k <= 0 {
			return errBurst
		}
		t := w.lane.request(k)
		if err := sleepWriting(ctx, w, t.ready); err != nil {
			w.lane.cancel(t)
			return err
		}
		n -= k
	}
	return nil
}

// sleepWriting waits for ready (a timer, a grant), still accepting and writing protocol
// messages.
func sleepWriting[T any](ctx context.Context, w *writer, ready <-chan T) error {
	select {
	case <-ready:
		return nil
	default:
	}
	if err := w.flush(); err != nil {
		return err
	}
	for {
		select {
		case <-ready:
			return nil
		case m := <-w.c.out:
			if err := w.accept(m); err != nil {
				return err
			}
			if err := w.writeCtrl(); err != nil {
				return err
			}
			if err := w.flush(); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// deadlineWriter bounds every write: a peer that stops reading (while it may still send
// keep-alives) is dropped after the idle timeout instead of pinning the writer for ever.
type deadlineWriter struct {
	nc      net.Conn
	raw     *rawSocket // when set, writes go to nc's socket directly (see conn.raw)
	timeout time.Duration
}

// Write writes p under a fresh deadline.
func (d deadlineWriter) Write(p []byte) (int, error) {
	if err := d.nc.SetWriteDeadline(time.Now().Add(d.timeout)); err != nil {
		return 0, err
	}
	if d.raw != nil {
		return d.raw.Write(p)
	}
	return d.nc.Write(p)
}

func (w *writer) flush() error {
	if w.bw.Buffered() == 0 {
		return nil
	}
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}
