package sim

import "time"

// A stream (Config.Arrival > 0) is a swarm that never empties: contributors keep arriving
// and leave on completion, so the seeder is never left alone with a free-rider, as it is at
// the end of a flash crowd. The free-riders join at Config.FreeRiderAt. Their completion
// time is compared with the contributors that joined while the first free-rider was
// downloading (its cohort): Result.Contributors then holds the cohort only.

// StreamFreeRiderAt is when the free-rider joins a Stream: later than a contributor's
// download time (about 230 s in Baseline's swarm), so that the stream is steady by then.
const StreamFreeRiderAt = 5 * time.Minute

// Stream is the steady-stream experiment of docs/freerider.md: Baseline's torrent, seeder,
// rates and choker, but one contributor arrives every `every` (at a random moment of each
// slot) and leaves on completion, and the free-rider joins at StreamFreeRiderAt. By
// Little's law about (download time)/every contributors are present at any time: 8 for
// 30 s, 16 for 15 s. The pool holds 30 minutes of arrivals; Result.Starved says if that
// was too few.
func Stream(every time.Duration) Config {
	c := Baseline()
	c.Arrival = every
	c.FreeRiderAt = StreamFreeRiderAt
	c.Contributors = int(30 * time.Minute / every)
	return c
}

// streamTrack accumulates, tick by tick, what the contributors and the first free-rider
// received while the free-rider was downloading.
type streamTrack struct {
	contribBytes, contribTicks int64 // bytes received by downloading contributors; their count, summed over ticks
	riderBytes, riderTicks     int64
}

// streamJoin is node i's join time in a stream.
func (s *swarm) streamJoin(i int, k kind) time.Duration {
	if k == freeRider {
		return s.cfg.FreeRiderAt
	}
	return time.Duration(i-1)*s.cfg.Arrival + time.Duration(s.rng.Int64N(int64(s.cfg.Arrival)))
}

// rider is the first free-rider, or nil.
func (s *swarm) rider() *node {
	if s.cfg.FreeRiders == 0 {
		return nil
	}
	return s.nodes[1+s.cfg.Contributors]
}

// streamFinished: every free-rider completed, and so did every contributor that joined
// before the last free-rider completed.
func (s *swarm) streamFinished() bool {
	var last time.Duration
	for _, n := range s.nodes[1+s.cfg.Contributors:] {
		if !n.done {
			return false
		}
		last = max(last, n.doneAt)
	}
	for _, n := range s.nodes[1 : 1+s.cfg.Contributors] {
		if n.joinAt < last && !n.done {
			return false
		}
	}
	return true
}

// tickSample is the state before a tick's transfers, for trackAfter.
type tickSample struct {
	downloading []*node // contributors downloading at the start of the tick
	received    int64   // their bytes received so far
	rider       int64   // the first free-rider's bytes received so far; -1 if it is not downloading
}

// trackBefore samples the swarm before the transfers of a tick (stream mode only).
func (s *swarm) trackBefore() tickSample {
	fr := s.rider()
	if s.cfg.Arrival <= 0 || fr == nil || !fr.present || fr.done {
		return tickSample{rider: -1}
	}
	t := tickSample{rider: fr.received}
	for _, n := range s.nodes[1 : 1+s.cfg.Contributors] {
		if n.present && !n.done {
			t.downloading = append(t.downloading, n)
			t.received += n.received
		}
	}
	return t
}

// trackAfter adds the tick's transfers to s.track.
func (s *swarm) trackAfter(t tickSample) {
	if t.rider < 0 {
		return
	}
	var sum int64
	for _, n := range t.downloading {
		sum += n.received
	}
	s.track.contribBytes += sum - t.received
	s.track.contribTicks += int64(len(t.downloading))
	s.track.riderBytes += s.rider().received - t.rider
	s.track.riderTicks++
}

// streamResult replaces r's contributors with the first free-rider's cohort (contributors
// that joined between its join and its completion, or the end of the run) and fills the
// stream's rate ratio: the contributors' mean download rate over the free-rider's, both
// measured while the free-rider downloaded.
func (s *swarm) streamResult(r *Result) {
	fr := s.rider()
	if fr == nil {
		return
	}
	end := s.now
	if fr.done {
		end = fr.doneAt
	}
	r.Contributors = nil
	for _, n := range s.nodes[1 : 1+s.cfg.Contributors] {
		if n.joinAt < fr.joinAt || n.joinAt >= end {
			continue
		}
		t := time.Duration(0)
		if n.done {
			t = n.doneAt - n.joinAt
		}
		r.Contributors = append(r.Contributors, t)
	}
	tr := s.track
	r.RateRatio = 0
	if tr.contribTicks > 0 && tr.riderBytes > 0 {
		r.RateRatio = float64(tr.contribBytes) / float64(tr.contribTicks) / (float64(tr.riderBytes) / float64(tr.riderTicks))
	}
	if tr.riderTicks > 0 {
		r.Present = float64(tr.contribTicks) / float64(tr.riderTicks)
	}
	r.Starved = s.nodes[s.cfg.Contributors].joinAt < s.now
}
