// Command udpload is a load generator for UDP trackers (BEP 15): a connect / announce / scrape
// mix (50/50/1 by default) over a set of info-hashes, with random peers, from many source
// addresses in 127.0.0.0/8. It reports responses per second, error replies, lost requests and
// latency percentiles, and, given the tracker's pid, its resident memory.
//
// Each source address has its own socket and goroutine keeping -window requests in flight
// (closed loop): a request is sent as soon as the reply to the previous one in its slot
// arrives, or after -timeout without a reply (counted as lost). With -rate, requests go out
// at that total rate whatever the replies (open loop): offered more than it can answer, a
// tracker shows its capacity, and requests without a reply within -timeout count as lost. Info-hash i is the 20 bytes
// of SHA-1("udpload" + i); -whitelist FILE writes them in hex for opentracker's -w.
//
//	udpload -target 127.0.0.1:6969 -hashes 1024 -sources 64 -duration 10s -pid 1234
package main

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"github.com/swarm-bt/swarm/tracker/udpwire"
)

type config struct {
	target   string
	hashes   int
	sources  int
	window   int
	duration time.Duration
	warmup   time.Duration
	timeout  time.Duration
	mix      string
	rate     int
	numWant  int
	pid      int
	label    string
}

func main() {
	var c config
	var whitelist string
	flag.StringVar(&c.target, "target", "127.0.0.1:6969", "tracker UDP address")
	flag.IntVar(&c.hashes, "hashes", 1024, "number of info-hashes (1,024 to 1,000,000)")
	flag.IntVar(&c.sources, "sources", 64, "source addresses in 127.0.0.0/8, one socket each")
	flag.IntVar(&c.window, "window", 8, "requests in flight per source")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "measured time")
	flag.DurationVar(&c.warmup, "warmup", 2*time.Second, "load before measuring")
	flag.DurationVar(&c.timeout, "timeout", 500*time.Millisecond, "a request unanswered this long is lost and replaced")
	flag.StringVar(&c.mix, "mix", "50/50/1", "connect/announce/scrape weights")
	flag.IntVar(&c.rate, "rate", 0, "requests per second in all, open loop (0: closed loop, -window in flight)")
	flag.IntVar(&c.numWant, "numwant", 50, "num_want of announces")
	flag.IntVar(&c.pid, "pid", 0, "tracker pid, to report its RSS")
	flag.StringVar(&c.label, "label", "", "name printed with the results")
	flag.StringVar(&whitelist, "whitelist", "", "write the info-hashes in hex to this file and exit")
	flag.Parse()
	if whitelist != "" {
		if err := writeWhitelist(whitelist, c.hashes); err != nil {
			fmt.Fprintln(os.Stderr, "udpload:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := run(ctx, c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "udpload:", err)
		os.Exit(1)
	}
	res.print(os.Stdout, c)
}

func infoHash(i int) [20]byte {
	return sha1.Sum([]byte("udpload" + strconv.Itoa(i)))
}

func writeWhitelist(path string, n int) error {
	var b strings.Builder
	for i := range n {
		h := infoHash(i)
		b.WriteString(hex.EncodeToString(h[:]))
		b.WriteByte('\n')
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func parseMix(s string) ([3]int, error) {
	var m [3]int
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		return m, errors.New("-mix wants three weights like 50/50/1")
	}
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return m, fmt.Errorf("-mix: bad weight %q", p)
		}
		m[i] = v
	}
	if m[0]+m[1]+m[2] == 0 {
		return m, errors.New("-mix: all weights are zero")
	}
	return m, nil
}

func run(ctx context.Context, c config) (*result, error) {
	mix, err := parseMix(c.mix)
	if err != nil {
		return nil, err
	}
	if c.hashes < 1 || c.sources < 1 || c.sources > 65000 || c.window < 1 {
		return nil, errors.New("-hashes, -sources (at most 65,000) and -window must be positive")
	}
	target, err := netip.ParseAddrPort(c.target)
	if err != nil {
		return nil, fmt.Errorf("-target: %w", err)
	}
	hashes := make([][20]byte, c.hashes)
	for i := range hashes {
		hashes[i] = infoHash(i)
	}
	workers := make([]*worker, c.sources)
	for i := range workers {
		src := netip.AddrFrom4([4]byte{127, byte(1 + i>>16), byte(i >> 8), byte(i)})
		if target.Addr().Is6() {
			src = netip.IPv6Loopback() // one IPv6 loopback address only
		}
		conn, err := net.DialUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(src, 0)), net.UDPAddrFromAddrPort(target))
		if err != nil {
			return nil, fmt.Errorf("socket from %s: %w", src, err)
		}
		_ = conn.SetReadBuffer(1 << 20)
		nslots := c.window
		if c.rate > 0 { // a ring long enough for every request of one timeout
			nslots = max(64, int(float64(c.rate)/float64(c.sources)*c.timeout.Seconds()*2))
		}
		workers[i] = &worker{c: c, conn: conn, hashes: hashes, mix: mix,
			rng: rand.New(rand.NewPCG(uint64(i), 42)), slots: make([]slot, nslots)}
	}
	start := time.Now()
	measureFrom, end := start.Add(c.warmup), start.Add(c.warmup+c.duration)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.run(ctx, measureFrom, end) })
	}
	wg.Wait()
	res := &result{elapsed: min(time.Since(measureFrom), c.duration)}
	for _, w := range workers {
		_ = w.conn.Close()
		res.add(&w.stats)
	}
	if c.pid > 0 {
		res.rss, res.hwm = procMem(c.pid)
	}
	return res, ctx.Err()
}

// slot is one request in flight.
type slot struct {
	tx       uint32
	action   udpwire.Action
	sent     time.Time
	buf      []byte
	answered bool
}

type stats struct {
	replies [3]int // by action
	errors  int
	lost    int
	peers   int // peers in announce replies
	lat     []time.Duration
}

type worker struct {
	c      config
	conn   *net.UDPConn
	pc     batchConn
	hashes [][20]byte
	mix    [3]int
	rng    *rand.Rand
	slots  []slot
	connID uint64
	haveID bool
	nextTx uint32
	out    []ipv4.Message // requests of the next write
	in     []ipv4.Message
	stats  stats
}

// batchConn is what ipv4.PacketConn and ipv6.PacketConn share: recvmmsg and sendmmsg.
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// run keeps the window full: each read takes every reply waiting (recvmmsg), and the requests
// that replace them go out in one write (sendmmsg), so that the generator spends few system
// calls per request and can outrun a tracker on a core of its own.
func (w *worker) run(ctx context.Context, measureFrom, end time.Time) {
	if w.conn.LocalAddr().(*net.UDPAddr).IP.To4() != nil {
		w.pc = ipv4.NewPacketConn(w.conn)
	} else {
		w.pc = ipv6.NewPacketConn(w.conn)
	}
	w.in = make([]ipv4.Message, len(w.slots))
	w.out = make([]ipv4.Message, 0, len(w.slots))
	for i := range w.in {
		w.in[i].Buffers = [][]byte{make([]byte, 4096)}
	}
	if w.c.rate > 0 {
		w.runOpen(ctx, measureFrom, end)
		return
	}
	now := time.Now()
	for i := range w.slots {
		w.send(i, now)
	}
	w.flush()
	for ctx.Err() == nil {
		now := time.Now()
		if now.After(end) {
			return
		}
		_ = w.conn.SetReadDeadline(now.Add(w.c.timeout / 4))
		n, err := w.pc.ReadBatch(w.in, 0)
		now = time.Now()
		if err != nil {
			w.expire(now, measureFrom)
		}
		for i := range n {
			if j, ok := w.receive(w.in[i].Buffers[0][:w.in[i].N], now, measureFrom); ok {
				w.send(j, now)
			}
		}
		w.flush()
	}
}

// runOpen sends at the worker's share of -rate, in batches, and reads what comes back in
// between. A slot that comes round again unanswered is a lost request.
func (w *worker) runOpen(ctx context.Context, measureFrom, end time.Time) {
	perSec := float64(w.c.rate) / float64(w.c.sources)
	begin, sent, next := time.Now(), 0, 0
	for ctx.Err() == nil {
		now := time.Now()
		if now.After(end) {
			return
		}
		due := int(now.Sub(begin).Seconds()*perSec) - sent
		for range min(due, len(w.in)) {
			if s := &w.slots[next]; !s.answered && !s.sent.IsZero() && s.sent.After(measureFrom) {
				w.stats.lost++
			}
			w.send(next, now)
			next = (next + 1) % len(w.slots)
			sent++
		}
		w.flush()
		_ = w.conn.SetReadDeadline(now.Add(time.Millisecond))
		n, _ := w.pc.ReadBatch(w.in, 0)
		now = time.Now()
		for i := range n {
			w.receive(w.in[i].Buffers[0][:w.in[i].N], now, measureFrom)
		}
	}
}

// flush writes the requests queued by send.
func (w *worker) flush() {
	for len(w.out) > 0 {
		n, err := w.pc.WriteBatch(w.out, 0)
		if err != nil {
			break // the requests count as lost when their slots expire
		}
		w.out = w.out[n:]
	}
	w.out = w.out[:0]
}

// expire replaces requests unanswered for longer than the timeout.
func (w *worker) expire(now, measureFrom time.Time) {
	for i := range w.slots {
		if now.Sub(w.slots[i].sent) > w.c.timeout {
			if w.slots[i].sent.After(measureFrom) {
				w.stats.lost++
			}
			w.send(i, now)
		}
	}
}

// receive accounts for one reply and returns the slot it frees.
func (w *worker) receive(pkt []byte, now, measureFrom time.Time) (int, bool) {
	if len(pkt) < udpwire.ReplyHeaderSize {
		return 0, false
	}
	tx := uint32(pkt[4])<<24 | uint32(pkt[5])<<16 | uint32(pkt[6])<<8 | uint32(pkt[7])
	i := int(tx % uint32(len(w.slots)))
	s := &w.slots[i]
	if s.tx != tx || s.answered {
		return 0, false // a late reply to a request already given up
	}
	s.answered = true
	body, err := udpwire.ParseReply(pkt, tx, s.action)
	measured := s.sent.After(measureFrom)
	switch {
	case err != nil:
		if measured {
			w.stats.errors++
		}
		if er, ok := errors.AsType[*udpwire.ErrorReply](err); ok && w.stats.errors < 3 && measured {
			fmt.Fprintln(os.Stderr, "udpload: error reply:", er.Message)
		}
		w.haveID = false
	case s.action == udpwire.ActionConnect:
		if id, err := udpwire.ParseConnectReply(body); err == nil {
			w.connID, w.haveID = id, true
		}
		fallthrough
	default:
		if s.action == udpwire.ActionAnnounce && measured && len(body) >= 12 {
			w.stats.peers += (len(body) - 12) / 6
		}
		if measured {
			w.stats.replies[actionIndex(s.action)]++
			w.stats.lat = append(w.stats.lat, now.Sub(s.sent))
		}
	}
	return i, true
}

func actionIndex(a udpwire.Action) int {
	switch a {
	case udpwire.ActionAnnounce:
		return 1
	case udpwire.ActionScrape:
		return 2
	}
	return 0
}

// send puts a new request of the mix in slot i. Without a connection id, it is a connect.
func (w *worker) send(i int, now time.Time) {
	w.nextTx++
	tx := uint32(i) + uint32(len(w.slots))*w.nextTx
	action := udpwire.ActionConnect
	if w.haveID {
		switch r := w.rng.IntN(w.mix[0] + w.mix[1] + w.mix[2]); {
		case r < w.mix[0]:
		case r < w.mix[0]+w.mix[1]:
			action = udpwire.ActionAnnounce
		default:
			action = udpwire.ActionScrape
		}
	}
	// Each slot keeps its own request buffer: a queued request stays intact until flushed.
	m := ipv4.Message{Buffers: w.slotBuf(i)}
	b := m.Buffers[0][:0]
	switch action {
	case udpwire.ActionConnect:
		b = udpwire.AppendConnect(b, tx)
	case udpwire.ActionAnnounce:
		a := udpwire.Announce{
			InfoHash: w.hashes[w.rng.IntN(len(w.hashes))], Port: uint16(1024 + w.rng.IntN(60000)),
			Left: int64(w.rng.IntN(2)) * 1 << 20, NumWant: int32(w.c.numWant), Key: w.rng.Uint32(),
		}
		for j := range a.PeerID {
			a.PeerID[j] = byte(w.rng.Uint32())
		}
		b = udpwire.AppendAnnounce(b, w.connID, tx, &a)
	case udpwire.ActionScrape:
		n := 1 + w.rng.IntN(10)
		b = udpwire.AppendHeader(b, udpwire.Header{ConnID: w.connID, Action: udpwire.ActionScrape, TxID: tx})
		for range n {
			h := w.hashes[w.rng.IntN(len(w.hashes))]
			b = append(b, h[:]...)
		}
	}
	m.Buffers[0] = b
	w.slots[i] = slot{tx: tx, action: action, sent: now, buf: b}
	w.out = append(w.out, m)
}

func (w *worker) slotBuf(i int) [][]byte {
	if w.slots[i].buf == nil {
		w.slots[i].buf = make([]byte, 0, 256) // a scrape of 10 hashes is 216 bytes
	}
	return [][]byte{w.slots[i].buf[:0]}
}

type result struct {
	stats
	elapsed  time.Duration
	rss, hwm string
}

func (r *result) add(s *stats) {
	for i := range r.replies {
		r.replies[i] += s.replies[i]
	}
	r.errors += s.errors
	r.lost += s.lost
	r.peers += s.peers
	r.lat = append(r.lat, s.lat...)
}

func (r *result) print(out *os.File, c config) {
	total := r.replies[0] + r.replies[1] + r.replies[2]
	secs := r.elapsed.Seconds()
	slices.Sort(r.lat)
	pct := func(p float64) string {
		if len(r.lat) == 0 {
			return "-"
		}
		d := r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))]
		return fmt.Sprintf("%.0fus", float64(d.Microseconds()))
	}
	label := c.label
	if label == "" {
		label = c.target
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fmt.Fprintf(out, "%s: %.0f responses/s (connect %d, announce %d, scrape %d in %.1fs), errors %d, lost %d, %.1f peers per announce, load generator CPU %.1fs\n",
		label, float64(total)/secs, r.replies[0], r.replies[1], r.replies[2], secs, r.errors, r.lost,
		float64(r.peers)/float64(max(1, r.replies[1])), cpu.Seconds())
	fmt.Fprintf(out, "%s: latency p50 %s p90 %s p99 %s p99.9 %s; hashes %d, sources %d, window %d",
		label, pct(0.50), pct(0.90), pct(0.99), pct(0.999), c.hashes, c.sources, c.window)
	if r.rss != "" {
		fmt.Fprintf(out, "; tracker RSS %s (peak %s)", r.rss, r.hwm)
	}
	fmt.Fprintln(out)
}

// procMem reads VmRSS and VmHWM of pid from /proc.
func procMem(pid int) (rss, hwm string) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?", "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		switch k {
		case "VmRSS":
			rss = strings.Join(strings.Fields(v), " ")
		case "VmHWM":
			hwm = strings.Join(strings.Fields(v), " ")
		}
	}
	return rss, hwm
}
