package peer

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/swarm-bt/swarm/peer/bitfield"
	"github.com/swarm-bt/swarm/peer/picker"
	"github.com/swarm-bt/swarm/peer/wire"
)

// maxHalfOpen bounds the dials in flight of one swarm (the session bounds all of them).
const maxHalfOpen = 16

// peer is the loop's view of one connection.
type peer struct {
	*conn
	has                                                  bitfield.Bitfield
	gotMessage                                           bool // a bitfield is legal only as the first message
	amChoking, amInterested, peerChoking, peerInterested bool

	requests  map[picker.Block]time.Time // ours to the peer, with when they were sent
	picked    []picker.Block             // scratch of fill: the blocks just picked for the peer
	cancelled map[picker.Block]struct{}  // ours withdrawn: a late block for them is tolerated
	choked    chokeTally                 // since the peer's last choke (swarm_msgs.go)
	sug       []sugEntry                 // our suggestions to it while we seed (swarm_suggest.go)
	owns      bool                       // some piece was given to it first (swarm_suggest.go)

	down, up                 meter
	downloaded, uploaded     int64 // piece payload; uploaded mirrors conn.uploaded at the last sample
	connectedAt, lastBlockAt time.Time
	snubbed, closed          bool
	timeouts                 int // request expiries since the last block received

	source PeerSource // where the peer came from
	ext    extState   // BEP 10 and BEP 6 state (swarm_ext.go, swarm_fast.go)
	// backlog holds messages for the writer while its channel is full (swarm_send.go).
	backlog []outMsg
}

// addrState is where a known address stands.
type addrState uint8

const (
	addrIdle addrState = iota
	addrDialing
	addrConnected
	addrBanned
)

// addrInfo is what we know of an address to dial.
type addrInfo struct {
	state addrState
	fails int       // failed dials in a row
	next  time.Time // not before
	seed  bool      // it was a seed: no point dialing it while we seed
	// source is where we learnt the address; reason why it is where it is (for Ledger).
	source PeerSource
	reason string
}

// peerTable holds the connected peers and the addresses we know.
type peerTable struct {
	byID     map[int]*peer
	byPeerID map[peerKey]*peer // by (address, peer ID): an ID alone proves nothing (swarm_ban.go)
	known    map[netip.AddrPort]*addrInfo
	fromPEX  int // addresses added to known from PEX (capped by maxPEXKnown)
	banned   map[peerKey]bool
	addrBans map[netip.Addr]addrBan
	evicted  map[netip.Addr]time.Time // addresses whose idle peer was evicted, until when refused
	nextID   int
	dialing  int
	wantDial bool
}

func newPeerTable() peerTable {
	return peerTable{
		byID:     map[int]*peer{},
		byPeerID: map[peerKey]*peer{},
		known:    map[netip.AddrPort]*addrInfo{},
		banned:   map[peerKey]bool{},
		addrBans: map[netip.Addr]addrBan{},
		evicted:  map[netip.Addr]time.Time{},
	}
}

// addKnown records addresses to dial; known ones keep their state and backoff.
func (s *Swarm) addKnown(addrs []netip.AddrPort, now time.Time, source PeerSource) {
	for _, a := range addrs {
		a = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
		if !a.IsValid() || a.Port() == 0 || s.sess.isSelf(a) {
			continue
		}
		if _, ok := s.peers.known[a]; !ok {
			s.peers.known[a] = &addrInfo{next: now, source: source}
		}
	}
	s.peers.wantDial = true
}

// dialMore dials known idle addresses while there is room, in the swarm and in the session
// (its connection cap and dial budget; when they are spent, the next tick tries again).
func (s *Swarm) dialMore(ctx context.Context) {
	t := &s.peers
	t.wantDial = false
	for addr, ai := range t.known {
		if len(t.byID)+t.dialing >= s.cfg.MaxPeers || t.dialing >= maxHalfOpen || s.sess.conns.full() {
			return
		}
		if ai.state != addrIdle || s.now.Before(ai.next) || (s.seeding && ai.seed) || s.addrBanned(addr.Addr()) {
			continue
		}
		if s.sess.isSelf(addr) { // learnt since it was added (another torrent dialled it)
			ai.state = addrBanned
			continue
		}
		if !s.sess.halfOpen.tryAcquire() {
			return
		}
		ai.state = addrDialing
		t.dialing++
		s.wg.Go(func() { s.dial(ctx, addr) })
	}
}

// backoff is the wait before redialing after fails failures in a row.
func (s *Swarm) backoff(fails int) time.Duration {
	d := s.cfg.Timeouts.RedialMin << min(fails, 20)
	return min(d, s.cfg.Timeouts.RedialMax)
}

func (s *Swarm) onDialFailed(e dialFailedEvent) {
	s.peers.dialing--
	ai := s.peers.known[e.addr]
	s.log.Debug("dial failed", "peer", e.addr, "err", e.err)
	ai.reason = "dial failed: " + e.err.Error()
	if errors.Is(e.err, ErrSelf) {
		ai.state, ai.reason = addrBanned, "our own address"
		return
	}
	ai.state = addrIdle
	ai.next = s.now.Add(s.backoff(ai.fails))
	ai.fails++
}

// onConnected adopts a connection whose handshake succeeded, or refuses it.
func (s *Swarm) onConnected(ctx context.Context, e connectedEvent) {
	var ai *addrInfo
	if e.outgoing {
		s.peers.dialing--
		ai = s.peers.known[e.addr]
	}
	if reason := s.refusal(e, ai); reason != "" {
		s.log.Debug("connection refused", "peer", e.addr, "reason", reason)
		_ = e.nc.Close()
		if ai != nil && ai.state != addrBanned {
			ai.state, ai.next, ai.reason = addrIdle, s.now.Add(s.cfg.Timeouts.RedialMax), "refused: "+reason
		}
		return
	}
	src := SourceIncoming
	if ai != nil {
		ai.state, ai.fails, ai.reason = addrConnected, 0, ""
		src = ai.source
	}
	s.peers.nextID++
	c := &conn{id: s.peers.nextID, nc: e.nc, raw: newRawSocket(e.nc), addr: e.addr, peerID: e.hs.PeerID, reserved: e.hs.Reserved,
		outgoing: e.outgoing, encryption: encryptionOf(e.nc), out: make(chan outMsg, outQueueLen)}
	p := &peer{
		conn:      c,
		has:       bitfield.New(s.cfg.Info.NumPieces()),
		amChoking: true, peerChoking: true,
		requests:    map[picker.Block]time.Time{},
		cancelled:   map[picker.Block]struct{}{},
		connectedAt: s.now,
		source:      src,
	}
	s.initExtensions(p)
	s.peers.byID[p.id] = p
	s.peers.byPeerID[p.key()] = p
	s.dl.pk.PeerBitfield(picker.PeerID(p.id), p.has.Clone())
	bf := s.openExtensions(p)
	s.startConn(ctx, p.conn, bf)
	s.log.Debug("peer connected", "peer", e.addr, "client", ClientName(p.peerID), "outgoing", e.outgoing,
		"encryption", p.encryption.String(), "source", src, "extensions", p.ext.on, "fast", p.fast)
}

func (s *Swarm) refusal(e connectedEvent, ai *addrInfo) string {
	switch {
	case s.peers.banned[peerKeyOf(e.addr, e.hs.PeerID)] || (ai != nil && ai.state == addrBanned):
		return "banned"
	case s.addrBanned(e.addr.Addr()):
		return "address banned"
	case s.recentlyEvicted(e.addr.Addr()):
		return "evicted as idle a moment ago"
	case s.peers.byPeerID[peerKeyOf(e.addr, e.hs.PeerID)] != nil:
		return "already connected"
	case len(s.peers.byID) >= s.cfg.MaxPeers && !s.evictIdle():
		return "too many peers"
	case !s.sess.conns.tryAcquire() && !(s.evictIdle() && s.sess.conns.tryAcquire()):
		// last: a refusal after it would leak the slot
		return "too many peers in the session"
	}
	return ""
}

func (s *Swarm) onClosed(e closedEvent) {
	if p := s.peers.byID[e.id]; p != nil {
		s.dropPeer(p, e.err)
	}
}

// dropPeer closes a connection and forgets its state; its requests go back to the picker.
func (s *Swarm) dropPeer(p *peer, reason error) {
	if p.closed {
		return
	}
	p.closed = true
	p.cancel()
	s.sess.conns.release()
	s.sampleUpload(p)
	delete(s.peers.byID, p.id)
	delete(s.peers.byPeerID, p.key())
	s.dl.pk.PeerGone(picker.PeerID(p.id))
	// Its pieces, outstanding suggestions among them, go back to be given to others.
	s.unownPieces(p)
	if len(p.requests) > 0 || (!p.peerChoking && p.amInterested) { // SpareSeeds may change too
		s.dl.refill = true
	}
	if ai := s.peers.known[p.addr]; p.outgoing && ai != nil && ai.state == addrConnected {
		ai.state, ai.next = addrIdle, s.now.Add(s.backoff(0))
		ai.seed = p.has.Full()
		ai.reason = dropReason(reason)
	}
	s.peers.wantDial = true
	s.chk.dirty = true
	s.logDrop(p, reason)
}

func (s *Swarm) logDrop(p *peer, reason error) {
	var pe *wire.ProtocolError
	switch {
	case errors.As(reason, &pe), errors.Is(reason, errUnresponsive):
		s.log.Warn("peer dropped", "peer", p.addr, "client", p.clientOf(), "source", p.source, "err", reason)
	case reason == nil || errors.Is(reason, io.EOF) || errors.Is(reason, net.ErrClosed):
		s.log.Debug("peer gone", "peer", p.addr, "client", p.clientOf(), "source", p.source)
	default:
		s.log.Debug("peer dropped", "peer", p.addr, "client", p.clientOf(), "source", p.source, "err", reason)
	}
}

// sampleUpload moves the writer's upload count into the loop's counters.
func (s *Swarm) sampleUpload(p *peer) {
	n := p.conn.uploaded.Load()
	d := n - p.uploaded
	p.uploaded = n
	p.up.add(d)
	s.traffic.up.add(d)
	s.traffic.uploaded += d
}
