package tracker

import (
	"errors"
	"net/netip"
	"time"

	"github.com/swarm-bt/swarm/tracker/udpwire"
)

// announce records a BEP 15 announce and appends the reply. The IP field of the request is
// ignored: the peer is listed at the address the datagram came from.
func (w *udpWorker) announce(pkt []byte, m *udpMsg, txID uint32, b []byte, now time.Time) []byte {
	a := &w.ann
	if udpwire.ParseAnnounce(pkt, a, w.url) != nil {
		return w.fail(b, txID, errUDPShortAnnounce)
	}
	ev, ok := udpEvent(a.Event)
	if !ok {
		return w.fail(b, txID, errUDPEvent)
	}
	if a.Port == 0 {
		return w.fail(b, txID, errUDPPort)
	}
	ip := m.addr.Addr()
	s := w.s
	if s.limiter != nil && !s.limiter.allow(ip, now) {
		return w.fail(b, txID, errRateLimited)
	}
	if s.cfg.Allow != nil && !s.cfg.Allow(a.InfoHash) {
		return w.fail(b, txID, errNotAllowed)
	}
	want := int(a.NumWant)
	if want < 0 {
		want = defaultNumWant
	}
	want = min(want, maxNumWant)
	if ip.Is6() {
		want = min(want, udpPeerCap6)
	}
	req := PutRequest{
		InfoHash: a.InfoHash,
		Peer:     Peer{ID: a.PeerID, Addr: netip.AddrPortFrom(ip, a.Port)},
		Seeder:   a.Left == 0, Completed: ev == EventCompleted,
		Now: now, NumWant: want,
	}
	var counts Counts
	peers := w.peers[:0]
	if ev == EventStopped {
		if req.Seeder {
			req.NumWant = 0
			_, _, _ = s.store.Put(req, nil)
		}
		counts = s.store.Remove(a.InfoHash, a.PeerID)
	} else {
		var err error
		peers, counts, err = s.store.Put(req, peers)
		w.peers = peers
		switch {
		case errors.Is(err, ErrTooManySwarms):
			return w.fail(b, txID, errFull)
		case err != nil && !errors.Is(err, ErrSwarmFull):
			return w.fail(b, txID, err)
		}
	}
	b = udpwire.AppendAnnounceReply(b, txID, uint32(s.cfg.Interval/time.Second), udpCounts(counts))
	for _, p := range peers {
		// BEP 15: the reply's address family is the transport's.
		if p.Addr.Addr().Is4() == ip.Is4() {
			b = udpwire.AppendPeer(b, p.Addr)
		}
	}
	s.metrics.announces[ev].Inc()
	return b
}
