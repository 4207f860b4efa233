package peer

import (
	"net/netip"
	"time"
)

// Bans follow the evidence. A block proves only that a connection from some address, under
// some peer ID, sent it: a peer ID is chosen by the peer and one handshake shows it to
// anyone, so a corrupter can present an honest seeder's ID. Bans are therefore keyed by
// (address, peer ID), never by the ID alone, and an ID used from another address stays
// welcome. A banned address is refused for a while whatever ID it presents next (each ban
// is a strike against the address, and the refusal grows with the strikes), so reconnecting
// with fresh IDs does not buy another corrupt piece.

// peerKey is who a peer is, as far as the evidence goes: its IP address and its peer ID.
type peerKey struct {
	ip netip.Addr
	id [20]byte
}

// sender is the connection a block came from (smart-ban evidence is kept per connection).
type sender struct {
	conn int // the loop's connection ID; never 0
	key  peerKey
}

// addrBan is an address refused after bans.
type addrBan struct {
	strikes int
	until   time.Time
}

const (
	// addrBanTime is how long an address is refused per strike.
	addrBanTime = 30 * time.Minute
	// maxAddrBanTime bounds an address's refusal.
	maxAddrBanTime = 24 * time.Hour
	// maxAddrBans bounds the addresses remembered; past it expired ones are forgotten, and if
	// none has expired the oldest-ending goes (bans follow evidence, so this takes many
	// addresses that each sent a corrupt piece).
	maxAddrBans = 10000
)

func peerKeyOf(addr netip.AddrPort, id [20]byte) peerKey {
	return peerKey{ip: addr.Addr().Unmap(), id: id}
}

func (p *peer) key() peerKey     { return peerKeyOf(p.addr, p.peerID) }
func (p *peer) sender() sender   { return sender{conn: p.id, key: p.key()} }
func (k peerKey) String() string { return k.ip.String() + " " + ClientName(k.id) }

// addrBanned reports whether ip is refused now.
func (s *Swarm) addrBanned(ip netip.Addr) bool {
	b, ok := s.peers.addrBans[ip.Unmap()]
	return ok && s.now.Before(b.until)
}

// ban refuses k from now on, strikes its address (refused for a while whatever ID it
// presents), and drops its connection if there is one.
func (s *Swarm) ban(k peerKey, reason error) {
	s.peers.banned[k] = true
	s.strike(k.ip)
	p := s.peers.byPeerID[k]
	if p == nil {
		s.log.Warn("peer banned", "peer", k.ip, "client", ClientName(k.id), "err", reason)
		return
	}
	if ai := s.peers.known[p.addr]; p.outgoing && ai != nil {
		ai.state, ai.reason = addrBanned, "banned: "+reason.Error()
	}
	s.log.Warn("peer banned", "peer", p.addr, "client", ClientName(k.id), "err", reason)
	s.dropPeer(p, reason)
}

// strike counts a ban against ip and extends its refusal.
func (s *Swarm) strike(ip netip.Addr) {
	bans := s.peers.addrBans
	if _, ok := bans[ip]; !ok && len(bans) >= maxAddrBans {
		s.forgetAddrBan()
	}
	b := bans[ip]
	b.strikes++
	b.until = s.now.Add(min(time.Duration(b.strikes)*addrBanTime, maxAddrBanTime))
	bans[ip] = b
}

// forgetAddrBan makes room in the address bans: the expired ones go, or else the one that
// ends first.
func (s *Swarm) forgetAddrBan() {
	var first netip.Addr
	var end time.Time
	for ip, b := range s.peers.addrBans {
		if !s.now.Before(b.until) {
			delete(s.peers.addrBans, ip)
			continue
		}
		if end.IsZero() || b.until.Before(end) {
			first, end = ip, b.until
		}
	}
	if len(s.peers.addrBans) >= maxAddrBans {
		delete(s.peers.addrBans, first)
	}
}
