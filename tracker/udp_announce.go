package tracker

import (
	"context"
	"time"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/tracker/udpwire"
)

// announce runs a BEP 15 announce through the transport-neutral core (Announce) and appends
// the reply. The IP field of the request is ignored: the peer is listed at the address the
// datagram came from.
func (w *udpWorker) announce(ctx context.Context, pkt []byte, m *udpMsg, txID uint32, b []byte) []byte {
	a := &w.ann
	if udpwire.ParseAnnounce(pkt, a, w.url) != nil {
		return w.fail(ctx, b, txID, "announce", errUDPShortAnnounce)
	}
	ev, ok := udpEvent(a.Event)
	if !ok {
		return w.fail(ctx, b, txID, "announce", errUDPEvent)
	}
	if a.Port == 0 {
		return w.fail(ctx, b, txID, "announce", errUDPPort)
	}
	ip := m.addr.Addr()
	want := int(a.NumWant) // negative: the default
	if ip.Is6() {
		want = min(want, udpPeerCap6)
		if a.NumWant < 0 {
			want = min(defaultNumWant, udpPeerCap6)
		}
	}
	res, err := w.s.Announce(ctx, AnnounceRequest{
		InfoHash: a.InfoHash, PeerID: a.PeerID, Port: a.Port,
		Uploaded: a.Uploaded, Downloaded: a.Downloaded, Left: a.Left,
		Event: ev, NumWant: want,
	}, ip, w.peers[:0])
	if err != nil {
		return w.fail(ctx, b, txID, "announce", err)
	}
	w.peers = res.Peers
	b = udpwire.AppendAnnounceReply(b, txID, uint32(res.Interval/time.Second), udpCounts(res.Counts))
	for _, p := range res.Peers {
		// BEP 15: the reply's address family is the transport's.
		if p.Addr.Addr().Is4() == ip.Is4() {
			b = udpwire.AppendPeer(b, p.Addr)
		}
	}
	return b
}

// scrape answers 1 to 74 info-hashes, zero counts for unknown swarms.
func (w *udpWorker) scrape(ctx context.Context, pkt []byte, m *udpMsg, txID uint32, b []byte) []byte {
	raw, err := udpwire.ScrapeHashes(pkt)
	if err != nil {
		return w.fail(ctx, b, txID, "scrape", errUDPBadScrape)
	}
	hs := w.hashes[:0]
	for ; len(raw) > 0; raw = raw[20:] {
		hs = append(hs, metainfo.Hash(raw[:20]))
	}
	counts, err := w.s.Scrape(ctx, m.addr.Addr(), hs, w.counts[:0])
	if err != nil {
		return w.fail(ctx, b, txID, "scrape", err)
	}
	w.hashes, w.counts = hs, counts
	b = udpwire.AppendReplyHeader(b, udpwire.ActionScrape, txID)
	for _, c := range counts {
		b = udpwire.AppendScrapeCounts(b, udpCounts(c))
	}
	return b
}
