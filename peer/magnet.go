package peer

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer/metadata"
	"github.com/swarm-bt/swarm/peer/wire"
)

// This file fetches a magnet link's info dictionary (BEP 9) before its swarm starts: it
// dials the peers it is given and those the Announcer returns, speaks the extension protocol
// (BEP 10), and lets a metadata.Assembler decide what to ask of whom. The peers that offered
// metadata are returned, so that the swarm dials them first.

// MetadataConfig configures FetchMetadata. Zero fields take the defaults in the comments.
type MetadataConfig struct {
	InfoHash metainfo.Hash
	// PeerID is ours; zero means NewPeerID.
	PeerID [20]byte
	// Port is our listen port, sent in the extension handshake and announces.
	Port uint16
	// Peers are addresses to dial (a magnet's x.pe, the command line).
	Peers []netip.AddrPort
	// Announcer is asked for more peers (a magnet's trackers); nil means none.
	Announcer Announcer
	// Dialer opens connections; nil means a net.Dialer.
	Dialer func(ctx context.Context, network, addr string) (net.Conn, error)
	// MaxPeers bounds the connections at once; default 16.
	MaxPeers int
	Logger   *slog.Logger
	// Progress, if set, is called from the fetch loop after every change; it must not block.
	Progress func(MetadataProgress)
	// Timeouts: Dial, Handshake, Request (a metadata request; default here 10 s), Announce,
	// MinAnnounce, RedialMin and RedialMax are used.
	Timeouts Timeouts
}

// MetadataProgress is the state of a metadata fetch.
type MetadataProgress struct {
	Connected int // peers connected
	Offering  int // peers that offer the metadata
	Have      int // metadata pieces received
	Total     int // metadata pieces; 0 until a peer gives the size
}

// ErrNoMetadataPeers: the fetch ran out of peers to try and has no announcer to ask.
var ErrNoMetadataPeers = errors.New("peer: no peer to fetch the metadata from")

// ourMetadataID is the extended id under which we receive ut_metadata; ourPEXID ut_pex.
const (
	ourPEXID      = 1
	ourMetadataID = 3
)

// FetchMetadata fetches the info dictionary of cfg.InfoHash and returns it, verified against
// the info-hash, with the addresses of the peers that offered it. It runs until it has the
// metadata or ctx ends; it returns ErrNoMetadataPeers only when every address failed and
// there is no Announcer to ask for more.
func FetchMetadata(ctx context.Context, cfg MetadataConfig) ([]byte, []netip.AddrPort, error) {
	f := newFetcher(cfg)
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		f.wg.Wait()
	}()
	return f.run(ctx)
}

// FetchMetadata is the package's FetchMetadata run in the session: connections go through
// its handshake (encryption policy, peer ID, self detection); cfg.PeerID and cfg.Dialer are
// ignored, and cfg.Port defaults to the session's. The session need not run yet.
func (s *Session) FetchMetadata(ctx context.Context, cfg MetadataConfig) ([]byte, []netip.AddrPort, error) {
	cfg.PeerID = s.peerID
	if cfg.Port == 0 {
		cfg.Port = s.port
	}
	if cfg.Logger == nil {
		cfg.Logger = s.log
	}
	f := newFetcher(cfg)
	f.sess = s
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		f.wg.Wait()
	}()
	return f.run(ctx)
}

type fetchAddr struct {
	dialing, connected bool
	fails              int
	next               time.Time
	bad                bool
}

type fetchConn struct {
	addr     netip.AddrPort
	out      chan []byte
	cancel   context.CancelFunc
	theirID  int // their ut_metadata id
	offering bool
}

type fetchEvent struct {
	id   int
	addr netip.AddrPort
	conn *fetchConn // set on connect
	hs   *wire.ExtHandshake
	msg  *wire.MetadataMsg
	err  error // closed or failed
}

type fetcher struct {
	cfg      MetadataConfig
	sess     *Session // connect through it, if set
	log      *slog.Logger
	asm      *metadata.Assembler
	known    map[netip.AddrPort]*fetchAddr
	conns    map[int]*fetchConn
	events   chan fetchEvent
	nextID   int
	dialing  int
	annAt    time.Time
	annBusy  bool
	offered  []netip.AddrPort
	wg       sync.WaitGroup
	announce chan AnnounceResponse
}

func newFetcher(cfg MetadataConfig) *fetcher {
	if cfg.PeerID == ([20]byte{}) {
		var seed [16]byte
		_, _ = crand.Read(seed[:])
		cfg.PeerID = NewPeerID(rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:]))))
	}
	if cfg.Dialer == nil {
		cfg.Dialer = (&net.Dialer{}).DialContext
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.MaxPeers = orDefault(cfg.MaxPeers, 16)
	cfg.Timeouts.Request = orDefault(cfg.Timeouts.Request, 10*time.Second)
	cfg.Timeouts.setDefaults()
	f := &fetcher{
		cfg: cfg, log: cfg.Logger.With("infohash", cfg.InfoHash),
		asm:      metadata.New(cfg.InfoHash, metadata.Config{Timeout: cfg.Timeouts.Request}),
		known:    map[netip.AddrPort]*fetchAddr{},
		conns:    map[int]*fetchConn{},
		events:   make(chan fetchEvent, 64),
		announce: make(chan AnnounceResponse, 1),
	}
	f.add(cfg.Peers, time.Now())
	return f
}

func (f *fetcher) add(addrs []netip.AddrPort, now time.Time) {
	for _, a := range addrs {
		a = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
		if a.IsValid() && a.Port() != 0 && f.known[a] == nil {
			f.known[a] = &fetchAddr{next: now}
		}
	}
}

func (f *fetcher) run(ctx context.Context) ([]byte, []netip.AddrPort, error) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	f.log.Info("fetching metadata", "peers", len(f.known))
	for {
		now := time.Now()
		f.maybeAnnounce(ctx, now)
		f.dialMore(ctx, now)
		f.sendRequests(now)
		f.progress()
		if b := f.asm.Done(); b != nil {
			f.log.Info("metadata verified", "bytes", len(b), "peers", len(f.offered))
			return b, f.offered, nil
		}
		if f.exhausted() {
			return nil, nil, ErrNoMetadataPeers
		}
		select {
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("fetch metadata: %w", ctx.Err())
		case ev := <-f.events:
			f.onEvent(ev, time.Now())
		case resp := <-f.announce:
			f.annBusy = false
			f.add(resp.Peers, time.Now())
		case now := <-tick.C:
			for _, id := range f.asm.Expire(now) {
				f.log.Debug("metadata request timed out", "peer", f.conns[id].addr)
			}
		}
	}
}

// exhausted: nothing connected or dialling, every address failed for good, no announcer.
func (f *fetcher) exhausted() bool {
	if f.cfg.Announcer != nil || len(f.conns) > 0 || f.dialing > 0 {
		return false
	}
	for _, a := range f.known {
		if !a.bad && a.fails < 3 {
			return false
		}
	}
	return true
}

func (f *fetcher) progress() {
	if f.cfg.Progress == nil {
		return
	}
	have, total := f.asm.Progress()
	f.cfg.Progress(MetadataProgress{Connected: len(f.conns), Offering: f.asm.Peers(), Have: have, Total: total})
}

func (f *fetcher) maybeAnnounce(ctx context.Context, now time.Time) {
	if f.cfg.Announcer == nil || f.annBusy || now.Before(f.annAt) {
		return
	}
	f.annBusy = true
	f.annAt = now.Add(f.cfg.Timeouts.MinAnnounce)
	req := AnnounceRequest{InfoHash: f.cfg.InfoHash, PeerID: f.cfg.PeerID, Port: f.cfg.Port, Left: 1, Event: EventStarted, NumWant: 50}
	f.wg.Go(func() {
		actx, cancel := context.WithTimeout(ctx, f.cfg.Timeouts.AnnounceCall)
		resp, err := f.cfg.Announcer.Announce(actx, req)
		cancel()
		if err != nil {
			f.log.Warn("announce failed", "err", err)
		}
		select {
		case f.announce <- resp:
		case <-ctx.Done():
		}
	})
}

func (f *fetcher) dialMore(ctx context.Context, now time.Time) {
	for addr, a := range f.known {
		if len(f.conns)+f.dialing >= f.cfg.MaxPeers {
			return
		}
		if a.bad || a.dialing || a.connected || now.Before(a.next) {
			continue
		}
		a.dialing = true
		f.dialing++
		f.nextID++
		id := f.nextID
		f.wg.Go(func() { f.connect(ctx, id, addr) })
	}
}

func (f *fetcher) onEvent(ev fetchEvent, now time.Time) {
	switch {
	case ev.conn != nil:
		f.dialing--
		f.known[ev.addr].dialing, f.known[ev.addr].connected = false, true
		f.conns[ev.id] = ev.conn
	case ev.hs != nil:
		f.onHandshake(ev.id, *ev.hs)
	case ev.msg != nil:
		f.onMetadata(ev.id, *ev.msg, now)
	case ev.err != nil:
		f.onClosed(ev, now)
	}
}

func (f *fetcher) onHandshake(id int, hs wire.ExtHandshake) {
	c := f.conns[id]
	if c == nil {
		return
	}
	c.theirID = hs.M[wire.ExtMetadata]
	f.log.Debug("extension handshake", "peer", c.addr, "client", hs.V, "metadata_size", hs.MetadataSize, "extensions", hs.Names())
	if c.theirID == 0 || hs.MetadataSize == 0 {
		f.asm.RemovePeer(id)
		return
	}
	if err := f.asm.AddPeer(id, hs.MetadataSize); err != nil {
		f.log.Warn("peer refused", "peer", c.addr, "err", err)
		f.drop(id, err)
		return
	}
	if !c.offering {
		c.offering = true
		f.offered = append(f.offered, c.addr)
	}
}

func (f *fetcher) onMetadata(id int, m wire.MetadataMsg, now time.Time) {
	c := f.conns[id]
	if c == nil {
		return
	}
	switch m.Type {
	case wire.MetadataRequest: // we have nothing to give yet
		f.send(c, wire.MetadataMsg{Type: wire.MetadataReject, Piece: m.Piece})
	case wire.MetadataReject:
		f.asm.Reject(id, m.Piece, now)
	case wire.MetadataData:
		bad, err := f.asm.Data(id, m)
		if err != nil {
			f.log.Warn("bad metadata", "peer", c.addr, "err", err)
		}
		for _, b := range bad {
			f.drop(b, err)
		}
	}
}

func (f *fetcher) drop(id int, err error) {
	c := f.conns[id]
	if c == nil {
		return
	}
	f.known[c.addr].bad = true
	c.cancel()
	f.asm.RemovePeer(id)
	delete(f.conns, id)
	f.log.Debug("peer dropped", "peer", c.addr, "err", err)
}

func (f *fetcher) onClosed(ev fetchEvent, now time.Time) {
	a := f.known[ev.addr]
	if c := f.conns[ev.id]; c != nil {
		f.asm.RemovePeer(ev.id)
		delete(f.conns, ev.id)
		a.connected = false
	} else if a.dialing {
		a.dialing = false
		f.dialing--
	} else {
		return // dropped already
	}
	a.next = now.Add(min(f.cfg.Timeouts.RedialMin<<min(a.fails, 10), f.cfg.Timeouts.RedialMax))
	a.fails++
	f.log.Debug("metadata peer gone", "peer", ev.addr, "err", ev.err)
}

func (f *fetcher) sendRequests(now time.Time) {
	for _, r := range f.asm.Requests(now) {
		if c := f.conns[r.Peer]; c != nil {
			f.send(c, wire.MetadataMsg{Type: wire.MetadataRequest, Piece: r.Piece})
		}
	}
}

// send queues a ut_metadata message without blocking; a peer that does not read is dropped.
func (f *fetcher) send(c *fetchConn, m wire.MetadataMsg) {
	if c.theirID == 0 {
		return
	}
	frame := wire.AppendMessage(nil, wire.Message{ID: wire.Extended, ExtID: uint8(c.theirID), Payload: m.Marshal()})
	select {
	case c.out <- frame:
	default:
		c.cancel()
	}
}
