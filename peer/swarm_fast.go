package peer

import (
	"github.com/swarm-bt/swarm/peer/picker"
	"github.com/swarm-bt/swarm/peer/wire"
)

// This file is the Fast extension (BEP 6), used when both sides set its reserved bit;
// without it its messages are ignored, as before.

// maxAllowedIn caps the allowed_fast pieces we keep per peer.
const maxAllowedIn = 64

// allowedFastPipeline is how many requests we keep to a peer that chokes us, for pieces of
// its allowed_fast set.
const allowedFastPipeline = 8

// initExtensions sets p's BEP 10 and BEP 6 state from the handshakes.
func (s *Swarm) initExtensions(p *peer) {
	ours := ourReserved()
	p.ext.on = p.reserved.Has(wire.ExtensionByte, wire.ExtensionBit) && ours.Has(wire.ExtensionByte, wire.ExtensionBit)
	p.fast = p.reserved.Has(wire.FastByte, wire.FastBit) && ours.Has(wire.FastByte, wire.FastBit)
	if !p.fast {
		return
	}
	for _, i := range wire.AllowedFastSet(p.addr.Addr(), s.cfg.InfoHash, s.cfg.Info.NumPieces(), allowedFastCount) {
		if s.dl.have.Has(int(i)) {
			p.allowedOut = append(p.allowedOut, i)
		}
	}
}

// onFast handles the Fast extension's messages.
func (s *Swarm) onFast(p *peer, m wire.Message, first bool) error {
	if !p.fast {
		return nil
	}
	n := s.cfg.Info.NumPieces()
	switch m.ID {
	case wire.HaveAll:
		s.log.Debug("have all received", "peer", p.addr, "client", p.clientOf())
		return s.onBitfield(p, fullBitfield(n).Bytes(), first)
	case wire.HaveNone:
		if !first {
			return violation("have none after other messages")
		}
		return nil
	case wire.RejectRequest:
		s.onReject(p, picker.Block{Piece: int(m.Index), Begin: m.Begin, Length: m.Length})
	case wire.AllowedFast:
		if int(m.Index) < n && len(p.ext.allowedIn) < maxAllowedIn {
			if p.ext.allowedIn == nil {
				p.ext.allowedIn = map[uint32]bool{}
			}
			p.ext.allowedIn[m.Index] = true
			s.fill(p)
		}
	case wire.Suggest: // new pieces are started from suggestions first (picker.Suggest)
		if int(m.Index) >= n {
			return violation("suggest piece %d of %d", m.Index, n)
		}
		s.dl.pk.Suggest(picker.PeerID(p.id), int(m.Index))
	}
	return nil
}

// onReject puts a rejected request back in the picker, for another peer (or this one, once
// it unchokes us or has room). A reject for a request we withdrew is expected.
func (s *Swarm) onReject(p *peer, b picker.Block) {
	if p.peerChoking {
		p.choked.rejected++
	}
	if _, ok := p.requests[b]; ok {
		s.dl.pk.Release(picker.PeerID(p.id), b)
		delete(p.requests, b)
		s.dl.refill = true
		return
	}
	delete(p.cancelled, b)
}

// rejectRequest answers a request we will not serve (BEP 6).
func (s *Swarm) rejectRequest(p *peer, m wire.Message) {
	s.sendTo(p, outMsg{kind: outControl, id: wire.RejectRequest, index: m.Index, begin: m.Begin, length: m.Length})
}

// fillAllowed requests, from a peer that chokes us, blocks of the pieces it allows us
// (allowed_fast).
func (s *Swarm) fillAllowed(p *peer) {
	if len(p.ext.allowedIn) == 0 {
		return
	}
	n := allowedFastPipeline - len(p.requests)
	if n <= 0 {
		return
	}
	p.picked = s.dl.pk.PickAppend(p.picked, picker.PeerID(p.id), n)
	for _, b := range p.picked {
		if !p.ext.allowedIn[uint32(b.Piece)] || !s.mayRequest(p, b) {
			s.dl.pk.Release(picker.PeerID(p.id), b)
			continue
		}
		p.choked.sent++
		p.requests[b] = s.now
		s.sendTo(p, outMsg{kind: outControl, id: wire.Request, index: uint32(b.Piece), begin: b.Begin, length: b.Length})
	}
}
