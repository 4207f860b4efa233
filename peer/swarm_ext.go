package peer

import (
	"context"
	"log/slog"
	"net/netip"

	"github.com/swarm-bt/swarm/peer/bitfield"
	"github.com/swarm-bt/swarm/peer/pex"
	"github.com/swarm-bt/swarm/peer/wire"
)

// This file is the extension protocol (BEP 10) on a running swarm: the extension handshake,
// serving our metadata (BEP 9) and peer exchange (BEP 11). swarm_fast.go holds BEP 6.

// ClientVersion is the client name and version we send in the extension handshake's v.
const ClientVersion = "swarm 0.1.0"

// allowedFastCount is the size of the allowed_fast set we give a peer (libtorrent: 5, BEP 6
// suggests 10).
const allowedFastCount = 10

// maxPEXKnown caps the addresses learnt from PEX that the swarm keeps: a swarm of liars
// cannot fill its memory.
const maxPEXKnown = 1000

// extState is one peer's extension state.
type extState struct {
	on     bool           // both sides set the BEP 10 bit
	ids    map[string]int // the peer's ids for the extensions it speaks
	client string         // the handshake's v
	port   uint16         // the peer's listen port (p)
	reqq   int
	pexOut pex.Sender
	pexIn  pex.Receiver
	// allowedIn are the pieces the peer lets us request while it chokes us (BEP 6).
	allowedIn map[uint32]bool
}

// canPEX reports whether PEX may be used with p: the peer speaks ut_pex and the torrent is
// not private (BEP 27).
func (s *Swarm) canPEX(p *peer) bool {
	return p.ext.ids[wire.ExtPEX] != 0 && !s.cfg.Info.Private
}

// clientOf names the peer's client: the extension handshake's v, else from the peer ID.
func (p *peer) clientOf() string {
	if p.ext.client != "" {
		return p.ext.client
	}
	return ClientName(p.peerID)
}

// openExtensions queues what follows the handshake (after our bitfield, if any): have_all or
// have_none for a Fast peer, our extension handshake, and our allowed_fast set. It returns
// the bitfield to send (nil when have_all/have_none replace it).
func (s *Swarm) openExtensions(p *peer) []byte {
	var bf []byte
	switch {
	case p.fast && s.dl.have.Full():
		s.sendControl(p, wire.HaveAll)
		s.log.Debug("have all sent", "peer", p.addr)
	case p.fast && s.dl.have.Count() == 0:
		s.sendControl(p, wire.HaveNone)
	case s.dl.have.Count() > 0:
		bf = append([]byte(nil), s.dl.have.Bytes()...)
	}
	if p.ext.on {
		s.sendExt(p, wire.ExtHandshakeID, s.extHandshake(p).Marshal())
	}
	for _, i := range p.allowedOut {
		s.sendTo(p, outMsg{kind: outControl, id: wire.AllowedFast, index: i})
	}
	if port := s.sess.cfg.DHTPort; port != 0 && !s.cfg.Info.Private && p.reserved.Has(wire.DHTByte, wire.DHTBit) {
		s.sendTo(p, outMsg{kind: outControl, id: wire.Port, index: uint32(port)}) // BEP 5
	}
	return bf
}

// extHandshake is our extension handshake for p.
func (s *Swarm) extHandshake(p *peer) wire.ExtHandshake {
	h := wire.ExtHandshake{M: map[string]int{}, V: ClientVersion, Port: s.cfg.Port, Reqq: maxServeQueue,
		YourIP: p.addr.Addr(), UploadOnly: s.seeding}
	if len(s.cfg.InfoBytes) > 0 {
		h.M[wire.ExtMetadata] = ourMetadataID
		h.MetadataSize = int64(len(s.cfg.InfoBytes))
	}
	if !s.cfg.Info.Private {
		h.M[wire.ExtPEX] = ourPEXID
	}
	return h
}

func (s *Swarm) sendExt(p *peer, id int, payload []byte) {
	s.sendTo(p, outMsg{kind: outControl, id: wire.Extended, ext: uint8(id), payload: payload})
}

// onExtended dispatches an extended message by the ids we announced; other ids are ignored
// (BEP 10: a peer may use ids we did not announce only by mistake).
func (s *Swarm) onExtended(p *peer, m wire.Message) error {
	if !p.ext.on {
		return nil // no BEP 10 bit: ignored, as before
	}
	switch m.ExtID {
	case wire.ExtHandshakeID:
		return s.onExtHandshake(p, m.Payload)
	case ourMetadataID:
		return s.onMetadataMsg(p, m.Payload)
	case ourPEXID:
		return s.onPEX(p, m.Payload)
	}
	return nil
}

// onExtHandshake takes a (first or later) extension handshake: a later one replaces the ids
// (BEP 10), and fields it leaves out keep their values.
func (s *Swarm) onExtHandshake(p *peer, b []byte) error {
	h, err := wire.ParseExtHandshake(b)
	if err != nil {
		return violation("extension handshake: %v", err)
	}
	p.ext.ids = h.M
	if h.V != "" {
		p.ext.client = h.V
	}
	if h.Port != 0 {
		p.ext.port = h.Port
	}
	if h.Reqq != 0 {
		p.ext.reqq = h.Reqq
	}
	s.log.Debug("extension handshake", "peer", p.addr, "client", p.clientOf(), "extensions", h.Names(),
		"metadata_size", h.MetadataSize, "reqq", h.Reqq, "source", p.source)
	return nil
}

// onMetadataMsg serves our metadata (BEP 9): a piece in range is sent, anything else
// rejected; data and rejects are ignored (we have the metadata).
func (s *Swarm) onMetadataMsg(p *peer, b []byte) error {
	m, err := wire.ParseMetadataMsg(b)
	if err != nil {
		return violation("ut_metadata: %v", err)
	}
	if m.Type != wire.MetadataRequest {
		return nil
	}
	id := p.ext.ids[wire.ExtMetadata]
	if id == 0 {
		return nil // it cannot receive the answer
	}
	info := s.cfg.InfoBytes
	if m.Piece >= wire.MetadataPieces(int64(len(info))) {
		s.sendExt(p, id, wire.MetadataMsg{Type: wire.MetadataReject, Piece: m.Piece}.Marshal())
		return nil
	}
	start := m.Piece * wire.MetadataPieceSize
	end := min(len(info), start+wire.MetadataPieceSize)
	s.sendExt(p, id, wire.MetadataMsg{Type: wire.MetadataData, Piece: m.Piece, TotalSize: int64(len(info)), Data: info[start:end]}.Marshal())
	return nil
}

// onPEX takes a peer's ut_pex: new addresses become candidates, recorded as from PEX,
// within the caps; a flooding peer is dropped.
func (s *Swarm) onPEX(p *peer, b []byte) error {
	if s.cfg.Info.Private {
		return nil
	}
	msg, err := wire.ParsePEX(b)
	if err != nil {
		return violation("ut_pex: %v", err)
	}
	added, err := p.ext.pexIn.Receive(s.now, msg, s.isOurAddr)
	if err != nil {
		return violation("%v", err)
	}
	var fresh []netip.AddrPort
	for _, a := range added {
		if s.peers.fromPEX >= maxPEXKnown {
			break
		}
		if _, known := s.peers.known[a.Addr]; !known {
			fresh = append(fresh, a.Addr)
			s.peers.fromPEX++
		}
	}
	s.addKnown(fresh, s.now, SourcePEX)
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		s.log.Debug("pex received", "peer", p.addr, "added", len(msg.Added), "dropped", len(msg.Dropped), "new", len(fresh),
			"addrs", pexSample(msg.Added))
	}
	return nil
}

// isOurAddr reports whether a is this session (a known self address, or our listen port on
// a loopback or unspecified address the peer may echo back).
func (s *Swarm) isOurAddr(a netip.AddrPort) bool {
	return s.sess.isSelf(a)
}

// sendPEX sends each PEX peer what changed, at most once a minute (pex.Sender).
func (s *Swarm) sendPEX() {
	if s.cfg.Info.Private {
		return
	}
	var current map[netip.AddrPort]byte
	for _, p := range s.peers.byID {
		if !s.canPEX(p) {
			continue
		}
		if current == nil {
			current = s.pexPeers()
		}
		if msg, ok := p.ext.pexOut.Next(s.now, current, p.pexAddr()); ok {
			s.sendExt(p, p.ext.ids[wire.ExtPEX], msg.Marshal())
			s.log.Debug("pex sent", "peer", p.addr, "added", len(msg.Added), "dropped", len(msg.Dropped))
		}
	}
}

// pexPeers lists our connected peers as others can reach them, with their flags.
func (s *Swarm) pexPeers() map[netip.AddrPort]byte {
	out := map[netip.AddrPort]byte{}
	for _, p := range s.peers.byID {
		a := p.pexAddr()
		if !a.IsValid() {
			continue
		}
		var f byte
		if p.has.Full() {
			f |= wire.PEXSeed
		}
		if p.outgoing {
			f |= wire.PEXReachable
		}
		if p.encryption != 0 {
			f |= wire.PEXEncryption
		}
		out[a] = f
	}
	return out
}

// pexAddr is where others can reach p: the address we dialled, or for an incoming peer its
// IP with the listen port from its extension handshake (invalid if it gave none).
func (p *peer) pexAddr() netip.AddrPort {
	if p.outgoing {
		return p.addr
	}
	if p.ext.port == 0 {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(p.addr.Addr(), p.ext.port)
}

// fullBitfield is the bitfield of a peer that sent have_all.
func fullBitfield(n int) bitfield.Bitfield {
	bf := bitfield.New(n)
	for i := range n {
		bf.Set(i)
	}
	return bf
}

// pexSample lists the first few added addresses, for debug logs.
func pexSample(added []wire.PEXPeer) []string {
	var out []string
	for _, a := range added[:min(len(added), 8)] {
		out = append(out, a.Addr.String())
	}
	return out
}
