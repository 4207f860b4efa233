package peer

import "time"

// idleTickInterval paces the housekeeping of an idle swarm (see idle). Events (a peer
// connecting, addresses arriving, a command) still wake the loop at once; only the periodic
// work waits longer. A thousand idle seeds in one daemon otherwise cost a thousand timer
// wake-ups a second, most of the daemon's idle CPU (docs/benchmarks.md).
const idleTickInterval = 5 * time.Second

// tickPeriod is how often the loop should tick now; it runs on the loop. An idle swarm
// still ticks every second when an announce or a redial is due within the slow tick, so
// that neither comes late.
func (s *Swarm) tickPeriod() time.Duration {
	if s.idle() && s.nextDue().Sub(s.now) >= idleTickInterval {
		return idleTickInterval
	}
	return tickInterval
}

// idle reports whether the swarm has nothing to do between ticks: a seed with no peer and no
// dial, no announce or disk work pending, and no traffic left in its rate windows.
func (s *Swarm) idle() bool {
	announcing := s.cfg.Announcer != nil && (s.ann.inFlight || len(s.ann.queue) > 0)
	return s.seeding && len(s.peers.byID) == 0 && s.peers.dialing == 0 && !announcing &&
		len(s.disk.queue) == 0 && s.traffic.up.quiet() && s.traffic.down.quiet()
}

// quiet reports whether the meter has seen no bytes in its whole window.
func (m *meter) quiet() bool {
	if m.cur != 0 {
		return false
	}
	for _, v := range m.slots {
		if v != 0 {
			return false
		}
	}
	return true
}

// nextDue is when housekeeping next has something to do: the next announce (regular, or
// early for want of peers) or the next dial of a known address.
func (s *Swarm) nextDue() time.Time {
	due := s.now.Add(time.Hour)
	if s.cfg.Announcer != nil {
		a := &s.ann
		due = minTime(due, a.next)
		if !s.seeding && a.fails == 0 {
			due = minTime(due, a.last.Add(max(s.cfg.Timeouts.MinAnnounce, a.minInterval)))
		}
	}
	for _, ai := range s.peers.known {
		if ai.state == addrIdle && !(s.seeding && ai.seed) {
			due = minTime(due, ai.next)
		}
	}
	return due
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
