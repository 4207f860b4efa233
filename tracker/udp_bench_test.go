package tracker

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/tracker/udpwire"
)

// replayConn is a batchConn that serves prepared datagrams round-robin until left runs out,
// then reports the socket closed; writes are counted and discarded.
type replayConn struct {
	pkts  [][]byte
	from  []netip.AddrPort
	next  int
	left  int
	reply int
}

func (r *replayConn) readBatch(ms []udpMsg) (int, error) {
	if r.left <= 0 {
		return 0, net.ErrClosed
	}
	k := min(len(ms), r.left)
	for i := range k {
		j := r.next % len(r.pkts)
		ms[i].n, ms[i].addr, ms[i].trunc = copy(ms[i].buf, r.pkts[j]), r.from[j], false
		r.next++
	}
	r.left -= k
	return k, nil
}

func (r *replayConn) writeBatch(ms []udpMsg) error {
	r.reply += len(ms)
	return nil
}

// udpMix builds n datagrams in the 50/50/1 connect/announce/scrape mix of bench/udpload,
// from 4,096 addresses over 1,024 torrents, with connection ids valid at now.
func udpMix(m *connIDMinter, now time.Time, n int) ([][]byte, []netip.AddrPort) {
	rng := rand.New(rand.NewPCG(3, 4))
	var sc connIDScratch
	pkts, from := make([][]byte, n), make([]netip.AddrPort, n)
	for i := range n {
		addr := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 1, byte(i >> 8 & 15), byte(i)}), 40000)
		id := m.mint(&sc, addr, now)
		var ih [20]byte
		ih[0], ih[1] = byte(rng.IntN(1024)), byte(rng.IntN(4))
		switch r := rng.IntN(101); {
		case r < 50:
			pkts[i] = udpwire.AppendConnect(nil, uint32(i))
		case r < 100:
			pkts[i] = udpwire.AppendAnnounce(nil, id, uint32(i), &udpwire.Announce{
				InfoHash: ih, PeerID: [20]byte{byte(i), byte(i >> 8)}, Left: int64(rng.IntN(2)),
				Port: uint16(1024 + i), NumWant: 50, URLData: []byte("/announce"),
			})
		default:
			pkts[i] = udpwire.AppendScrape(nil, id, uint32(i), [][20]byte{ih})
		}
		from[i] = addr
	}
	return pkts, from
}

// BenchmarkUDPLoop runs the server's read loop over prepared datagrams (no sockets): it shows
// the cost per packet of decoding, the store and encoding, and that the loop allocates
// nothing per packet once the swarms exist.
func BenchmarkUDPLoop(b *testing.B) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s, err := New(Config{Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }, Rand: rand.New(rand.NewPCG(1, 1)),
		RatePerIP: -1, NewSwarmsPerMinute: -1})
	require.NoError(b, err)
	u := s.udpInit()
	pkts, from := udpMix(u.ids, now, 4096)
	rc := &replayConn{pkts: pkts, from: from, left: 2 * len(pkts)} // warm-up: every peer stored
	w := newUDPWorker(s, u, rc)
	require.NoError(b, w.run(context.Background()))
	b.ReportAllocs()
	b.ResetTimer()
	rc.left, rc.reply = b.N, 0
	require.NoError(b, w.run(context.Background()))
	b.StopTimer()
	require.Equal(b, b.N, rc.reply, "every datagram answered")
}
