package peer

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"

	"golang.org/x/time/rate"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/peer/storage"
	"github.com/swarm-bt/swarm/peer/wire"
)

// TestWriterIgnoresDuplicateRequests: a copy of a request still queued is ignored; once the
// request is served, withdrawn or discarded by a choke, the same request queues again.
func TestWriterIgnoresDuplicateRequests(t *testing.T) {
	w := &writer{c: &conn{}, queued: map[blockKey]struct{}{}}
	req := func(begin uint32) outMsg {
		return outMsg{kind: outServe, index: 5, begin: begin, length: wire.BlockSize}
	}
	accept := func(m outMsg) { require.NoError(t, w.accept(m)) }
	for range 3 {
		accept(req(0))
	}
	accept(req(wire.BlockSize))
	assert.Equal(t, []outMsg{req(0), req(wire.BlockSize)}, w.serve, "copies of a queued request ignored")

	assert.Equal(t, req(0), w.pop())
	accept(req(0))
	assert.Equal(t, []outMsg{req(wire.BlockSize), req(0)}, w.serve, "served, then asked again: queued again")

	accept(outMsg{kind: outUnserve, index: 5, begin: 0, length: wire.BlockSize})
	accept(req(0))
	assert.Equal(t, []outMsg{req(wire.BlockSize), req(0)}, w.serve, "withdrawn, then asked again")

	accept(outMsg{kind: outControl, id: wire.Choke})
	assert.Empty(t, w.serve)
	accept(req(wire.BlockSize))
	assert.Equal(t, []outMsg{req(wire.BlockSize)}, w.serve, "a choke forgets the queue")
}

// TestWriterDropsRequestsBeyondCap: a peer with more requests outstanding than the cap (as
// Transmission keeps at full speed when told no reqq) is not a violation: the excess is
// dropped, the connection kept, and what was queued is served in order.
func TestWriterDropsRequestsBeyondCap(t *testing.T) {
	w := &writer{c: &conn{}, queued: map[blockKey]struct{}{}, log: slog.New(slog.DiscardHandler)}
	req := func(i int) outMsg {
		return outMsg{kind: outServe, index: uint32(i / 16), begin: uint32(i%16) * wire.BlockSize, length: wire.BlockSize}
	}
	for i := range maxServeQueue + 100 {
		require.NoError(t, w.accept(req(i)), "request %d", i)
	}
	assert.Len(t, w.serve, maxServeQueue)
	assert.Equal(t, 100, w.dropped)
	assert.Equal(t, req(0), w.pop())
	require.NoError(t, w.accept(req(maxServeQueue+100)))
	assert.Len(t, w.serve, maxServeQueue, "room again once one is served")
	assert.Equal(t, req(maxServeQueue+100), w.serve[len(w.serve)-1])
}

// TestSendBacklogKeepsOrder: messages that do not fit a busy writer's channel wait in the
// loop's backlog, and so does everything after them: the writer gets them all, in order (a
// choke after the requests it discards), and the connection stays.
func TestSendBacklogKeepsOrder(t *testing.T) {
	s := &Swarm{}
	p := &peer{conn: &conn{out: make(chan outMsg, 4)}}
	var sent []outMsg
	for i := range 10 {
		m := outMsg{kind: outServe, index: uint32(i), length: wire.BlockSize}
		if i == 6 {
			m = outMsg{kind: outControl, id: wire.Choke}
		}
		sent = append(sent, m)
		s.sendTo(p, m)
	}
	assert.Len(t, p.out, 4)
	assert.Len(t, p.backlog, 6)
	var got []outMsg
	for len(got) < len(sent) {
		got = append(got, <-p.out)
		s.flushBacklog(p)
	}
	assert.Equal(t, sent, got)
	assert.Empty(t, p.backlog)
	assert.False(t, p.closed)
}

// vecCounter counts the vectored reads of a storage and the buffers in each.
type vecCounter struct {
	storage.Storage
	reads []int
}

func (v *vecCounter) ReadVecAt(bufs [][]byte, off int64) (int, error) {
	v.reads = append(v.reads, len(bufs))
	return storage.ReadVec(struct{ storage.Storage }{v.Storage}, bufs, off)
}

// TestWriterServesContiguousBlocksTogether: without upload limits, queued requests that
// follow each other on disk (across a piece boundary too) are read with one vectored read
// of at most serveBatch blocks; a request elsewhere starts a new read. Every block goes out
// whole, in the order asked, and counts as uploaded. With a limit, each block is read alone.
func TestWriterServesContiguousBlocksTogether(t *testing.T) {
	const pieceLen = 4 * wire.BlockSize
	data := make([]byte, 8*pieceLen)
	for i := range data {
		data[i] = byte(i*31 + i>>14)
	}
	req := func(i int) outMsg { // the i-th block of the payload
		return outMsg{kind: outServe, index: uint32(i / 4), begin: uint32(i%4) * wire.BlockSize, length: wire.BlockSize}
	}
	asked := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 20, 21, 30}
	for _, limited := range []bool{false, true} {
		mem := storage.NewMemory(int64(len(data)))
		_, err := mem.WriteAt(data, 0)
		require.NoError(t, err)
		st := &vecCounter{Storage: mem}
		var out bytes.Buffer
		lim := rate.Limit(rate.Inf)
		if limited {
			lim = 1 << 30
		}
		w := &writer{c: &conn{}, queued: map[blockKey]struct{}{}, st: st, pieceLen: pieceLen,
			bw: bufio.NewWriterSize(&out, writeBufferSize), lim: rate.NewLimiter(lim, 1<<20),
			lane: newFairLimiter(rate.Inf).newLane(), log: slog.New(slog.DiscardHandler)}
		for _, i := range asked {
			require.NoError(t, w.accept(req(i)))
		}
		for len(w.serve) > 0 {
			require.NoError(t, w.serveOne(context.Background()))
		}
		require.NoError(t, w.flush())
		if limited {
			assert.Equal(t, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, st.reads)
		} else {
			assert.Equal(t, []int{serveBatch, 2, 2, 1}, st.reads, "blocks 0-7, 8-9, 20-21, 30")
		}
		r := wire.NewReader(&out, wire.Limits{NumPieces: 8})
		for _, i := range asked {
			m, err := r.ReadMessage()
			require.NoError(t, err)
			want := req(i)
			require.Equal(t, wire.Piece, m.ID)
			require.Equal(t, want.index, m.Index)
			require.Equal(t, want.begin, m.Begin)
			require.Equal(t, data[i*wire.BlockSize:(i+1)*wire.BlockSize], m.Block, "block %d", i)
		}
		_, err = r.ReadMessage()
		require.ErrorIs(t, err, io.EOF)
		assert.Equal(t, int64(len(asked)*wire.BlockSize), w.c.uploaded.Load())
	}
}

// TestWriterQueueKeepsOrderWithoutAllocating: requests queued and served at a depth that
// goes up and down come out in order, and once the queue's array fits the depth, queueing
// allocates nothing (it used to reallocate every few requests when the queue never emptied).
func TestWriterQueueKeepsOrderWithoutAllocating(t *testing.T) {
	w := &writer{c: &conn{}, queued: map[blockKey]struct{}{}}
	next, want := 0, 0
	req := func(i int) outMsg {
		return outMsg{kind: outServe, index: uint32(i / 16), begin: uint32(i%16) * wire.BlockSize, length: wire.BlockSize}
	}
	cycle := func() { // no testify inside: its calls allocate
		for range 3 { // depth 1 → 4 → 1
			if err := w.accept(req(next)); err != nil {
				t.Fatal(err)
			}
			next++
		}
		for len(w.serve) > 1 {
			if keyOf(w.pop()) != keyOf(req(want)) {
				t.Fatalf("request %d out of order", want)
			}
			want++
		}
	}
	for range 100 {
		cycle()
	}
	assert.Zero(t, testing.AllocsPerRun(1000, cycle))
	for len(w.serve) > 0 {
		require.Equal(t, req(want), w.pop())
		want++
	}
	assert.Equal(t, next, want)
}
