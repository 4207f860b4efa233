package tracker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/tracker/udpwire"
)

// Reasons sent in UDP error replies that HTTP has no use for.
var (
	errUDPUnknownAction = &ClientError{Reason: "unknown action"}
	errUDPTooLong       = &ClientError{Reason: "packet too long"}
	errUDPShortAnnounce = &ClientError{Reason: "announce too short"}
	errUDPBadScrape     = &ClientError{Reason: fmt.Sprintf("scrape must hold 1 to %d info-hashes", udpwire.MaxScrapeHashes)}
	errUDPEvent         = &ClientError{Reason: "unknown event"}
	errUDPPort          = &ClientError{Reason: "invalid port: want 1-65535"}
)

// udpPeerCap6 bounds the peers of an IPv6 reply so that it fits one 1,500-byte packet: 20
// bytes of header, then 18 bytes a peer (an IPv4 reply of maxNumWant peers, 6 bytes each,
// always fits).
const udpPeerCap6 = (1500 - 40 - 8 - udpwire.AnnounceReplyHeader) / 18

// udpShared is the UDP state every socket of a Server shares; the zero value is ready and is
// filled on first use.
type udpShared struct {
	once    sync.Once
	ids     *connIDMinter
	connect prometheus.Counter
	dropped map[string]prometheus.Counter // fixed reasons, resolved once
}

var udpDropReasons = []string{"short", "bad_connect", "bad_connection_id"}

func (s *Server) udpInit() *udpShared {
	u := &s.udp
	u.once.Do(func() {
		u.ids = newConnIDMinter()
		u.connect = prometheus.NewCounter(prometheus.CounterOpts{
			Name: "swarm_tracker_udp_connects_total", Help: "UDP connect requests answered.",
		})
		drop := prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "swarm_tracker_udp_dropped_total", Help: "UDP packets dropped unanswered, by reason.",
		}, []string{"reason"})
		u.dropped = map[string]prometheus.Counter{}
		for _, r := range udpDropReasons {
			u.dropped[r] = drop.WithLabelValues(r)
		}
		// Fails only when another server registered the same names on a shared registry.
		if err := errors.Join(s.metrics.reg.Register(u.connect), s.metrics.reg.Register(drop)); err != nil {
			s.log.Warn("udp metrics not registered", "err", err)
		}
	})
	return u
}

// ServeUDP answers BEP 15 requests on every conn, one goroutine per socket, until ctx is
// done; then it closes the sockets and returns once their loops have stopped. It shares the
// store, the allow list, the rate limiter and the metrics with the HTTP side, so a peer that
// announced over UDP is handed to HTTP clients and the other way round. It does not run the
// reaper: Serve or Run does.
//
// A socket bound to a wildcard address answers from whichever address the kernel picks,
// which some clients (libtorrent) refuse: bind specific addresses (see ListenUDP).
func (s *Server) ServeUDP(ctx context.Context, conns ...*net.UDPConn) error {
	u := s.udpInit()
	workers := make([]*udpWorker, 0, len(conns))
	for _, c := range conns {
		bc, err := newBatchConn(c)
		if err != nil {
			return fmt.Errorf("tracker: serve udp: %w", err)
		}
		workers = append(workers, newUDPWorker(s, u, bc))
		s.log.Info("udp tracker listening", "addr", c.LocalAddr().String())
	}
	stop := context.AfterFunc(ctx, func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
	defer stop()
	var wg sync.WaitGroup
	errs := make([]error, len(workers))
	for i, w := range workers {
		wg.Go(func() { errs[i] = w.run(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// udpWorker is the loop of one socket, with all its buffers: after the first batches it
// allocates nothing per packet.
type udpWorker struct {
	s      *Server
	u      *udpShared
	bc     batchConn
	in     []udpMsg
	out    []udpMsg
	sc     connIDScratch
	ann    udpwire.Announce
	url    []byte
	peers  []Peer
	hashes []metainfo.Hash
	counts []Counts
}

func newUDPWorker(s *Server, u *udpShared, bc batchConn) *udpWorker {
	w := &udpWorker{
		s: s, u: u, bc: bc,
		in: make([]udpMsg, udpBatchSize), out: make([]udpMsg, udpBatchSize),
		url: make([]byte, 0, udpwire.MaxURLData), peers: make([]Peer, 0, maxNumWant),
		hashes: make([]metainfo.Hash, 0, udpwire.MaxScrapeHashes), counts: make([]Counts, 0, udpwire.MaxScrapeHashes),
	}
	for i := range w.in {
		w.in[i].buf = make([]byte, udpMaxPacket)
		w.out[i].buf = make([]byte, 0, udpMaxPacket)
	}
	return w
}

// udpMaxReadErrors is how many read errors in a row stop a socket's loop: one or two are
// ICMP news about an earlier reply's peer, a hundred are a broken socket.
const udpMaxReadErrors = 100

func (w *udpWorker) run(ctx context.Context) error {
	for fails := 0; ; {
		k, err := w.bc.readBatch(w.in)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			if fails++; fails == udpMaxReadErrors {
				return fmt.Errorf("tracker: udp read: %w", err)
			}
			w.s.log.Debug("udp read", "err", err)
			continue
		}
		fails = 0
		w.serveBatch(ctx, w.in[:k], w.s.cfg.Now())
	}
}

// serveBatch answers the datagrams of one read with one write.
func (w *udpWorker) serveBatch(ctx context.Context, in []udpMsg, now time.Time) {
	n := 0
	for i := range in {
		o := &w.out[n]
		b := w.handle(ctx, &in[i], o.buf[:0], now)
		if b == nil {
			continue
		}
		o.buf, o.n, o.addr = b, len(b), in[i].addr
		n++
	}
	if n == 0 {
		return
	}
	if err := w.bc.writeBatch(w.out[:n]); err != nil {
		w.s.log.Debug("udp write", "err", err)
	}
}

// handle returns the reply to one datagram appended to b, or nil to drop it. Nothing is sent
// for a request whose connection id is not valid for its source address: an attacker who
// spoofs that address never sees the id, so the tracker cannot be made to send announce or
// scrape replies (larger than the requests) to a victim.
func (w *udpWorker) handle(ctx context.Context, m *udpMsg, b []byte, now time.Time) []byte {
	pkt := m.buf[:m.n]
	h, err := udpwire.ParseHeader(pkt)
	if err != nil || !m.addr.IsValid() {
		w.u.dropped["short"].Inc()
		return nil
	}
	if h.Action == udpwire.ActionConnect {
		if m.trunc || udpwire.CheckConnect(h) != nil {
			w.u.dropped["bad_connect"].Inc()
			return nil
		}
		w.u.connect.Inc()
		return udpwire.AppendConnectReply(b, h.TxID, w.u.ids.mint(&w.sc, m.addr, now))
	}
	if !w.u.ids.valid(&w.sc, h.ConnID, m.addr, now) {
		w.u.dropped["bad_connection_id"].Inc()
		return nil
	}
	if m.trunc {
		return w.fail(ctx, b, h.TxID, "udp", errUDPTooLong)
	}
	switch h.Action {
	case udpwire.ActionAnnounce:
		return w.announce(ctx, pkt, m, h.TxID, b)
	case udpwire.ActionScrape:
		return w.scrape(ctx, pkt, m, h.TxID, b)
	}
	return w.fail(ctx, b, h.TxID, "udp", errUDPUnknownAction)
}

// fail appends an error reply for a refused request, counted and logged like an HTTP
// failure.
func (w *udpWorker) fail(ctx context.Context, b []byte, txID uint32, op string, err error) []byte {
	reason, _ := w.s.FailureReason(ctx, op, err)
	return udpwire.AppendError(b, txID, reason)
}

func udpCounts(c Counts) udpwire.Counts {
	return udpwire.Counts{Seeders: clampU32(c.Complete), Completed: clampU32(c.Downloaded), Leechers: clampU32(c.Incomplete)}
}

func clampU32(n int) uint32 { return uint32(max(0, min(n, 1<<31-1))) }

// udpEvent maps BEP 15's event numbers to Event.
func udpEvent(e udpwire.Event) (Event, bool) {
	switch e {
	case udpwire.EventNone:
		return EventNone, true
	case udpwire.EventCompleted:
		return EventCompleted, true
	case udpwire.EventStarted:
		return EventStarted, true
	case udpwire.EventStopped:
		return EventStopped, true
	}
	return 0, false
}
