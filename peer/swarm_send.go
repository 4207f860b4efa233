package peer

import "github.com/swarm-bt/swarm/peer/wire"

// maxBacklog bounds the messages the loop holds for a peer whose writer's channel is full:
// with the channel, room for more than half the requests a peer may keep queued
// (maxServeQueue, the reqq we advertise) while the writer is blocked in one write. A peer
// that fills it asks far more than it reads, and is dropped.
const maxBacklog = maxServeQueue / 2

// sendTo queues m for p's writer without blocking. What does not fit the writer's channel
// waits in p's backlog, in order, and everything after it too, so the writer sees the
// messages in the order the loop sent them (a choke after the requests it discards). A
// client that keeps thousands of requests outstanding (Transmission at full speed) sends
// them in bursts while the writer is busy writing; a peer that asks and never reads fills
// the backlog and is dropped: it can never stall the loop.
func (s *Swarm) sendTo(p *peer, m outMsg) {
	if p.closed {
		return
	}
	if s.flushBacklog(p) {
		select {
		case p.out <- m:
			return
		default:
		}
	}
	if len(p.backlog) >= maxBacklog {
		s.dropPeer(p, errQueueFull)
		return
	}
	p.backlog = append(p.backlog, m)
}

func (s *Swarm) sendControl(p *peer, id wire.ID) { s.sendTo(p, outMsg{kind: outControl, id: id}) }

// flushBacklog moves what the writer's channel has room for; it reports whether the backlog
// is empty. The loop calls it before every message to p and every tick.
func (s *Swarm) flushBacklog(p *peer) bool {
	n := 0
loop:
	for ; n < len(p.backlog); n++ {
		select {
		case p.out <- p.backlog[n]:
		default:
			break loop
		}
	}
	if n > 0 {
		clear(p.backlog[:n]) // extended payloads
		p.backlog = append(p.backlog[:0], p.backlog[n:]...)
	}
	return len(p.backlog) == 0
}
