package peer

import (
	"context"
	"errors"
	"fmt"

	"github.com/swarm-bt/swarm/peer/bitfield"
	"github.com/swarm-bt/swarm/peer/picker"
	"github.com/swarm-bt/swarm/peer/storage"
	"github.com/swarm-bt/swarm/peer/wire"
)

// ErrNotRunning is returned by Recheck when the swarm's loop is not running.
var ErrNotRunning = errors.New("peer: swarm not running")

// RecheckResult is what a Recheck found.
type RecheckResult struct {
	Good   int // pieces verified after the recheck
	Lost   int // pieces we had whose data on disk no longer matches: downloaded again
	Gained int // pieces we lacked that were found whole on disk
}

// Recheck verifies the torrent's data on disk again while the swarm runs, e.g. after files
// were changed under it. Pieces found damaged are no longer offered and are downloaded
// again; pieces found whole are taken. Nothing else restarts: connected peers stay
// connected, known peers and their backoffs stay, counters go on, and there is no new
// started announce. A storage that keeps files open (storage.Refresher) reopens them first.
// The check runs in the caller's goroutine, with as many hashing goroutines as the session
// has disk workers; ctx cancels it.
func (s *Swarm) Recheck(ctx context.Context) (RecheckResult, error) {
	var before bitfield.Bitfield
	if !s.live.Load() || !s.call(func() { before = s.dl.have.Clone() }) {
		return RecheckResult{}, ErrNotRunning
	}
	if r, ok := s.cfg.Storage.(storage.Refresher); ok {
		if err := r.Refresh(); err != nil {
			return RecheckResult{}, fmt.Errorf("recheck: %w", err)
		}
	}
	good, err := storage.Check(ctx, s.cfg.Info, s.cfg.Storage, s.sess.cfg.DiskWorkers, nil)
	if err != nil {
		return RecheckResult{}, fmt.Errorf("recheck: %w", err)
	}
	var res RecheckResult
	if !s.call(func() { res = s.applyRecheck(before, good) }) {
		return RecheckResult{}, ErrNotRunning
	}
	s.log.Info("rechecked", "have", res.Good, "lost", res.Lost, "gained", res.Gained)
	return res, nil
}

// applyRecheck takes the check's result on the loop. before is what we had when the check
// began: a piece verified by the swarm during the check is kept whatever the check saw.
func (s *Swarm) applyRecheck(before, good bitfield.Bitfield) RecheckResult {
	var lost, gained []int
	for i := range good.Len() {
		switch {
		case before.Has(i) && !good.Has(i) && s.dl.have.Has(i):
			lost = append(lost, i)
		case good.Has(i) && !s.dl.have.Has(i):
			gained = append(gained, i)
		}
	}
	res := RecheckResult{Lost: len(lost), Gained: len(gained)}
	if len(lost)+len(gained) > 0 {
		s.retake(lost, gained)
	}
	res.Good = s.dl.have.Count()
	return res
}

// retake changes what we have: lost pieces go, gained ones come. The picker is rebuilt from
// the new set and the peers' bitfields; requests in flight are withdrawn (blocks already on
// their way are tolerated and discarded) and picked again.
func (s *Swarm) retake(lost, gained []int) {
	for _, p := range s.peers.byID {
		s.withdrawAll(p)
	}
	if s.dl.lost.Len() == 0 {
		s.dl.lost = bitfield.New(s.dl.have.Len())
	}
	for _, i := range lost {
		s.dl.have.Clear(i)
		s.dl.lost.Set(i)
		s.dl.left += s.cfg.Info.PieceSize(i)
	}
	for _, i := range gained {
		s.dl.have.Set(i)
		s.dl.lost.Clear(i)
		s.dl.left -= s.cfg.Info.PieceSize(i)
	}
	s.dl.pk = picker.New(pickerConfig(s.cfg.Info, s.rng), s.dl.have.Clone())
	for _, p := range s.peers.byID {
		s.dl.pk.PeerBitfield(picker.PeerID(p.id), p.has.Clone())
	}
	if len(lost) > 0 && s.seeding {
		s.seeding = false
		s.resetSuggestions()
		completed := make(chan struct{})
		s.completed.Store(&completed)
		s.log.Warn("recheck: no longer complete", "lost", len(lost))
	}
	for _, p := range s.peers.byID {
		if len(lost) > 0 && !p.amChoking {
			// BEP 3: a choke discards the peer's queued requests, which may name lost
			// pieces; the choker unchokes it again at once. Requests that still name them
			// are ignored (onRequest), since BEP 3 has no way to take a have back.
			s.setChoking(p, true)
		}
		for _, i := range gained {
			if !p.has.Has(i) {
				s.sendTo(p, outMsg{kind: outControl, id: wire.Have, index: uint32(i)})
			}
		}
		s.updateInterest(p)
	}
	s.dl.refill, s.chk.dirty, s.peers.wantDial = true, true, true
	if !s.seeding && s.dl.pk.Done() {
		s.becomeSeed()
	}
}
