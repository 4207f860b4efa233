package peer

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/swarm-bt/swarm/peer/bitfield"
	"github.com/swarm-bt/swarm/peer/picker"
	"github.com/swarm-bt/swarm/peer/wire"
)

// violation is a protocol error found by the engine (the codec finds the framing ones).
func violation(format string, args ...any) error {
	return &wire.ProtocolError{Reason: fmt.Sprintf(format, args...)}
}

// onMessage dispatches one message from a peer.
func (s *Swarm) onMessage(e messageEvent) {
	p := s.peers.byID[e.id]
	if p == nil {
		s.disk.blocks.put(e.m.Block) // dropped meanwhile
		return
	}
	first := !p.gotMessage
	if e.m.ID != wire.Extended { // an extension handshake may precede the bitfield
		p.gotMessage = true
	}
	var err error
	switch e.m.ID {
	case wire.Choke:
		s.onChoke(p)
	case wire.Unchoke:
		s.onUnchoke(p)
	case wire.Interested:
		s.onInterested(p, true)
	case wire.NotInterested:
		s.onInterested(p, false)
	case wire.Have:
		err = s.onHave(p, e.m.Index)
	case wire.BitfieldID:
		err = s.onBitfield(p, e.m.Bitfield, first)
	case wire.Request:
		err = s.onRequest(p, e.m)
	case wire.Cancel:
		s.sendTo(p, outMsg{kind: outUnserve, index: e.m.Index, begin: e.m.Begin, length: e.m.Length})
	case wire.Piece:
		err = s.onPiece(p, e.m)
	case wire.Extended:
		err = s.onExtended(p, e.m)
	case wire.HaveAll, wire.HaveNone, wire.RejectRequest, wire.AllowedFast, wire.Suggest:
		err = s.onFast(p, e.m, first)
	case wire.Port: // BEP 5: the peer's DHT node
		if cb := s.sess.cfg.OnDHTPort; cb != nil && !s.cfg.Info.Private && e.m.Port != 0 {
			cb(netip.AddrPortFrom(p.addr.Addr(), e.m.Port))
		}
	default: // unknown IDs are ignored
	}
	if err != nil {
		s.dropPeer(p, err)
	}
}

// onChoke: the peer discards our requests (BEP 3), so they go back to the picker; blocks
// already in flight are still accepted.
func (s *Swarm) onChoke(p *peer) {
	// With the Fast extension a choke keeps the requests (BEP 6): the peer rejects or serves
	// each. We withdraw them all the same, so none is left hanging if it does neither; a
	// late block or reject for them is tolerated (cancelled).
	if !p.peerChoking || p.choked.since.IsZero() {
		p.choked = chokeTally{since: s.now}
	}
	p.choked.withdrawn += len(p.requests)
	p.peerChoking = true
	s.withdrawAll(p)
	s.log.Debug("choked by peer", "peer", p.addr, "client", p.clientOf(), "fast", p.fast,
		"withdrawn", p.choked.withdrawn, "requests", len(p.requests))
}

// chokeTally follows what became of our requests while a peer choked us, for the log line
// of its unchoke: users (and the interop tests) see that a choke left no request hanging.
type chokeTally struct {
	since     time.Time // the choke; zero while the peer has not sent one
	withdrawn int       // requests outstanding at the choke, withdrawn by us
	rejected  int       // rejects received while choked (BEP 6: for the withdrawn ones, mostly)
	late      int       // withdrawn blocks that arrived anyway (already on their way)
	sent      int       // requests sent while choked (allowed_fast pieces only)
}

// onUnchoke logs what the choke did to our requests, then fills the pipeline again.
func (s *Swarm) onUnchoke(p *peer) {
	if c := p.choked; p.peerChoking && !c.since.IsZero() { // not the first unchoke
		s.log.Debug("unchoked by peer", "peer", p.addr, "client", p.clientOf(), "fast", p.fast,
			"choked_for", s.now.Sub(c.since), "withdrawn", c.withdrawn, "rejected", c.rejected, "late", c.late,
			"sent_while_choked", c.sent, "requests", len(p.requests))
	}
	p.peerChoking = false
	s.fill(p)
}

func (s *Swarm) withdrawAll(p *peer) {
	for b := range p.requests {
		s.dl.pk.Release(picker.PeerID(p.id), b)
		s.markCancelled(p, b)
	}
	if len(p.requests) > 0 {
		s.dl.refill = true
	}
	clear(p.requests)
}

// markCancelled remembers a withdrawn request, so that a block already on its way is tolerated.
func (s *Swarm) markCancelled(p *peer, b picker.Block) {
	delete(p.requests, b)
	if len(p.cancelled) >= 4*maxPipeline {
		clear(p.cancelled)
	}
	p.cancelled[b] = struct{}{}
}

// onInterested records the peer's interest; the choker fills or frees a slot at once rather
// than at the next round.
func (s *Swarm) onInterested(p *peer, v bool) {
	if p.peerInterested != v {
		p.peerInterested = v
		s.chk.dirty = true
	}
}

func (s *Swarm) onHave(p *peer, index uint32) error {
	i := int(index)
	if i >= s.cfg.Info.NumPieces() {
		return violation("have for piece %d of %d", i, s.cfg.Info.NumPieces())
	}
	if p.has.Has(i) {
		return nil
	}
	p.has.Set(i)
	s.dl.pk.PeerHave(picker.PeerID(p.id), i)
	if s.seeding && p.has.Full() {
		return errBothSeeds
	}
	if !p.amInterested && !s.dl.have.Has(i) {
		s.updateInterest(p)
	}
	s.fill(p)
	return nil
}

// errBothSeeds closes a connection that has nothing to trade.
var errBothSeeds = fmt.Errorf("both peers are seeds")

func (s *Swarm) onBitfield(p *peer, b []byte, first bool) error {
	bf, err := bitfield.FromBytes(b, s.cfg.Info.NumPieces())
	if err != nil {
		return violation("%v", err)
	}
	if !first {
		return s.laterBitfield(p, bf)
	}
	p.has = bf
	s.dl.pk.PeerBitfield(picker.PeerID(p.id), bf.Clone())
	if s.seeding && bf.Full() {
		return errBothSeeds
	}
	s.updateInterest(p)
	s.fill(p)
	return nil
}

// laterBitfield takes a bitfield sent after other messages as the haves it adds. BEP 3 allows
// a bitfield only first, but aria2 1.36 sends one instead of several haves
// (DefaultBtInteractive::checkHave), and libtorrent and Transmission tolerate it. Pieces it
// drops are ignored: a peer never loses a piece.
func (s *Swarm) laterBitfield(p *peer, bf bitfield.Bitfield) error {
	for i := range bf.Len() {
		if bf.Has(i) && !p.has.Has(i) {
			if err := s.onHave(p, uint32(i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// onRequest validates a request and queues it for the writer. Requests while we choke the
// peer are dropped silently: they may have crossed our choke.
func (s *Swarm) onRequest(p *peer, m wire.Message) error {
	i := int(m.Index)
	if i < s.dl.lost.Len() && s.dl.lost.Has(i) && !s.dl.have.Has(i) {
		return nil // we announced it, then a recheck found it damaged
	}
	if i >= s.cfg.Info.NumPieces() || !s.dl.have.Has(i) {
		if p.fast && i < s.cfg.Info.NumPieces() {
			s.rejectRequest(p, m)
			return nil
		}
		return violation("request for piece %d that we do not have", i)
	}
	size := s.cfg.Info.PieceSize(i)
	if m.Length == 0 || m.Length > wire.BlockSize || int64(m.Begin)+int64(m.Length) > size {
		return violation("request of %d bytes at %d in piece %d of %d bytes", m.Length, m.Begin, i, size)
	}
	if p.amChoking && !(p.fast && slices.Contains(p.allowedOut, m.Index)) {
		if p.fast {
			s.rejectRequest(p, m)
		}
		return nil
	}
	s.sendTo(p, outMsg{kind: outServe, index: m.Index, begin: m.Begin, length: m.Length})
	if s.seeding {
		s.suggestServed(p, m.Index)
	}
	return nil
}

// updateInterest tells the peer whether we want something it has, when that changes.
func (s *Swarm) updateInterest(p *peer) {
	want := !s.seeding && s.dl.pk.Interesting(picker.PeerID(p.id))
	if want == p.amInterested {
		return
	}
	p.amInterested = want
	if want {
		s.sendControl(p, wire.Interested)
		return
	}
	s.sendControl(p, wire.NotInterested)
	if !p.peerChoking {
		s.dl.refill = true // a seed may now be asked for what this peer had (SpareSeeds)
	}
}

// setChoking chokes or unchokes p, sending the message only on a change.
func (s *Swarm) setChoking(p *peer, choke bool) {
	if p.amChoking == choke {
		return
	}
	p.amChoking = choke
	if choke {
		s.expireSuggestions(p, true)
		s.sendControl(p, wire.Choke)
		return
	}
	s.suggestTo(p) // before the unchoke, so that its first requests can follow them
	s.sendControl(p, wire.Unchoke)
}
