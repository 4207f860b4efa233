package peer

import (
	"context"
	"net"
	"net/netip"

	"github.com/swarm-bt/swarm/peer/wire"
)

// event is what the loop's goroutines (connection readers and writers, dials, the disk pool,
// announces) send to it on the one events channel. Each type has its own handler method.
type event interface {
	handle(ctx context.Context, s *Swarm)
}

// send delivers ev to the loop unless ctx ends first.
func (s *Swarm) send(ctx context.Context, ev event) bool {
	select {
	case s.events <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

// connectedEvent: a handshake succeeded; the loop adopts or refuses the connection.
type connectedEvent struct {
	nc       net.Conn
	addr     netip.AddrPort // the dialed address, or the remote address of an incoming one
	hs       wire.Handshake
	outgoing bool
}

func (e connectedEvent) handle(ctx context.Context, s *Swarm) { s.onConnected(ctx, e) }

// dialFailedEvent: a dial or its handshake failed.
type dialFailedEvent struct {
	addr netip.AddrPort
	err  error
}

func (e dialFailedEvent) handle(_ context.Context, s *Swarm) { s.onDialFailed(e) }

// messageEvent is one message a connection's reader decoded (never a keep-alive); readers
// send them in a messagesEvent.
type messageEvent struct {
	id int
	m  wire.Message
}

// messagesEvent: the messages a connection's reader decoded from what it had buffered, in
// order; each is handled as a messageEvent (the first may drop the connection: the rest are
// then ignored).
// It comes from batchPool and goes back there once handled.
type messagesEvent struct {
	id int
	ms []wire.Message
}

func (e *messagesEvent) handle(_ context.Context, s *Swarm) {
	for _, m := range e.ms {
		s.onMessage(messageEvent{id: e.id, m: m})
	}
	clear(e.ms) // the messages' slices belong to their handlers now
	e.ms = e.ms[:0]
	batchPool.Put(e)
}

// closedEvent: a connection's reader or writer failed; the connection is closed.
type closedEvent struct {
	id  int
	err error
}

func (e closedEvent) handle(_ context.Context, s *Swarm) { s.onClosed(e) }

// diskDoneEvent: the pool finished a job.
type diskDoneEvent struct {
	job  diskJob
	ok   bool       // for verify jobs: the hash matched
	sums [][20]byte // for some verify jobs: the SHA-1 of each block (smartban.go)
	err  error
}

func (e diskDoneEvent) handle(_ context.Context, s *Swarm) { s.onDiskDone(e) }

// announceDoneEvent: an announce returned.
type announceDoneEvent struct {
	ev   Event
	resp AnnounceResponse
	err  error
}

func (e announceDoneEvent) handle(_ context.Context, s *Swarm) { s.onAnnounceDone(e) }
