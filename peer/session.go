package peer

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer/mse"
	"github.com/swarm-bt/swarm/peer/wire"
)

// SessionConfig configures a Session. Zero fields take the defaults in the comments.
type SessionConfig struct {
	// Listener accepts incoming connections for every torrent of the session; nil means none.
	// Run closes it when it returns.
	Listener net.Listener
	// Port is the port announced to peer sources; it defaults to the Listener's.
	Port uint16
	// PeerID is ours, for every torrent; zero means an Azureus-style (BEP 20) "-SW0100-" plus
	// random bytes.
	PeerID [20]byte
	// UploadLimit and DownloadLimit bound the piece payload rate of all torrents together, in
	// bytes per second; 0 or rate.Inf means unlimited. The bandwidth is shared fairly between
	// the torrents that want it (each gets an equal share, and what one leaves unused goes to
	// the others), whatever their number of peers. Per-torrent limits (Config) apply as well.
	UploadLimit, DownloadLimit rate.Limit
	// MaxConns bounds the connected peers of all torrents together; default 500. Each torrent
	// has its own bound too (Config.MaxPeers).
	MaxConns int
	// MaxConnsPerIP bounds the incoming connections from one IP address, pending and
	// connected, all torrents together; default 8. Raise it only where many peers share an
	// address on purpose (tests that run many clients on 127.0.0.1).
	MaxConnsPerIP int
	// MaxHalfOpen bounds the outgoing dials in flight, all torrents together (the dial
	// budget); default 32.
	MaxHalfOpen int
	// DiskWorkers is the size of the pool that writes blocks and verifies pieces for every
	// torrent; default 4.
	DiskWorkers int
	// Dialer opens outgoing TCP connections; nil means a net.Dialer.
	Dialer func(ctx context.Context, network, addr string) (net.Conn, error)
	// Incoming takes over incoming connections that do not start with a plain BitTorrent
	// handshake (encrypted ones); nil means the session's MSE responder when Encryption allows
	// MSE, else they are closed.
	Incoming IncomingHook
	// Encryption is the MSE policy (peer/mse) of incoming and outgoing connections. The zero
	// value, mse.Off, speaks plain BitTorrent only; swarm's command line defaults to
	// mse.Prefer (MSE first, plain as the fallback, both accepted); mse.Require refuses plain.
	Encryption mse.Policy
	// HandshakeTimeout bounds the handshake exchange of incoming connections; default 10 s.
	// Outgoing ones use the torrent's Timeouts.
	HandshakeTimeout time.Duration
	// Logger receives the session's logs; nil means slog.Default().
	Logger *slog.Logger
	// Rand makes the peer ID when PeerID is zero; nil means seeded from crypto/rand.
	Rand *rand.Rand
	// DHTPort is our DHT node's UDP port; non-zero sets the DHT bit of our handshakes and sends
	// peers that set it a BEP 5 port message (public torrents only). 0 means no DHT.
	DHTPort uint16
	// OnDHTPort is told the DHT node of a peer that sent a port message (public torrents only),
	// so the DHT can add it to its table. It is called from a swarm's goroutine and must not
	// block. Peer does not import the DHT: cmd wires the two (DESIGN A).
	OnDHTPort func(netip.AddrPort)
}

// Session errors.
var (
	// ErrDuplicateTorrent is returned by Add for a torrent the session already has.
	ErrDuplicateTorrent = errors.New("peer: torrent already in the session")
	// ErrUnknownTorrent is returned by Remove for a torrent the session does not have.
	ErrUnknownTorrent = errors.New("peer: torrent not in the session")
	// ErrSessionClosed is returned by Add after Run has returned.
	ErrSessionClosed = errors.New("peer: session closed")
	// ErrInSession is returned by Run for a Swarm made by Session.Add: the session runs it.
	ErrInSession = errors.New("peer: swarm is run by its session")
)

// Session holds what the torrents of one process share: the listening port and the
// handshakes of incoming connections (routed by info-hash to their Swarm), the peer ID, the
// global rate limits, the connection cap and dial budget, and the disk and hashing pool.
// Torrents are added (Add) and removed (Remove) while it runs; each runs in its own Swarm,
// which owns that torrent's state in one goroutine.
//
// Create it with NewSession and start it with Run. The other methods are safe for concurrent
// use.
type Session struct {
	cfg      SessionConfig
	log      *slog.Logger
	peerID   [20]byte
	reserved wire.Reserved
	port     uint16

	up, down        *fairLimiter
	conns, halfOpen slots
	admit           *admission // incoming connections per address, pending handshakes
	disk            chan diskTask
	self            selfAddrs
	encMemory       encMemory // the way (plain or MSE) that worked per peer, under Prefer

	// mu guards the registry: routing reads it from every accept goroutine, and Add and
	// Remove change it from the caller's. It is held for map operations only, never for I/O.
	mu      sync.Mutex
	swarms  map[metainfo.Hash]*Swarm
	running bool // Run's loop has started the swarms registered before it
	closed  bool // Run's loop has ended: no more swarms start

	start   chan *Swarm // Add → Run's loop, which starts the swarm under its context
	started atomic.Bool
	stopped chan struct{} // Run's loop has ended
	wg      sync.WaitGroup
}

// NewSession validates cfg and returns a Session ready to Run.
func NewSession(cfg SessionConfig) (*Session, error) {
	if cfg.MaxConns < 0 || cfg.MaxHalfOpen < 0 || cfg.DiskWorkers < 0 || cfg.MaxConnsPerIP < 0 {
		return nil, fmt.Errorf("peer: session config: negative bound")
	}
	cfg.setDefaults()
	s := &Session{
		cfg:      cfg,
		log:      cfg.Logger,
		peerID:   cfg.PeerID,
		reserved: ourReserved(),
		port:     cfg.Port,
		up:       newFairLimiter(cfg.UploadLimit),
		down:     newFairLimiter(cfg.DownloadLimit),
		conns:    slots{max: int64(cfg.MaxConns)},
		halfOpen: slots{max: int64(cfg.MaxHalfOpen)},
		admit:    newAdmission(cfg.MaxConnsPerIP, maxPendingAccepts),
		disk:     make(chan diskTask),
		swarms:   map[metainfo.Hash]*Swarm{},
		start:    make(chan *Swarm),
		stopped:  make(chan struct{}),
	}
	if s.peerID == ([20]byte{}) {
		s.peerID = NewPeerID(cfg.Rand)
	}
	if cfg.DHTPort != 0 {
		s.reserved = s.reserved.Set(wire.DHTByte, wire.DHTBit)
	}
	s.self.m, s.self.dial = map[netip.AddrPort]bool{}, map[netip.AddrPort]netip.AddrPort{}
	if s.cfg.Incoming == nil && s.cfg.Encryption != mse.Off {
		s.cfg.Incoming = s.respondMSE
	}
	if cfg.Listener != nil {
		ap, err := netip.ParseAddrPort(cfg.Listener.Addr().String())
		if err == nil {
			if s.port == 0 {
				s.port = ap.Port()
			}
			s.self.addListener(ap)
		}
	}
	return s, nil
}

func (c *SessionConfig) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Rand == nil {
		var seed [16]byte
		_, _ = crand.Read(seed[:]) // never fails (crypto/rand documents it)
		c.Rand = rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])))
	}
	if c.Dialer == nil {
		c.Dialer = (&net.Dialer{}).DialContext
	}
	c.MaxConns = orDefault(c.MaxConns, 500)
	c.MaxHalfOpen = orDefault(c.MaxHalfOpen, 32)
	c.MaxConnsPerIP = orDefault(c.MaxConnsPerIP, defaultMaxConnsPerIP)
	c.DiskWorkers = orDefault(c.DiskWorkers, 4)
	c.HandshakeTimeout = orDefault(c.HandshakeTimeout, 10*time.Second)
}

// ourReserved is the one place that sets the reserved bits we send in every handshake
// (BEP 10 extension protocol, BEP 6 Fast extension, BEP 5 DHT port, once supported).
func ourReserved() wire.Reserved {
	return wire.Reserved{}.Set(wire.ExtensionByte, wire.ExtensionBit).Set(wire.FastByte, wire.FastBit)
}

// PeerID returns our peer ID.
func (s *Session) PeerID() [20]byte { return s.peerID }

// Port returns the port announced to peer sources (0 when there is no listener and none was
// configured).
func (s *Session) Port() uint16 { return s.port }

// Addr returns the listener's address, or nil when the session has no listener.
func (s *Session) Addr() net.Addr {
	if s.cfg.Listener == nil {
		return nil
	}
	return s.cfg.Listener.Addr()
}

// Add makes a Swarm for cfg's torrent in the session and starts it (at once if the session
// runs, else when Run starts). The session supplies what it owns: cfg.PeerID, Listener,
// Dialer and DiskWorkers are ignored, and cfg.Port defaults to the session's. Per-torrent
// limits (UploadLimiter, DownloadLimiter, MaxPeers) stay. It fails with ErrDuplicateTorrent
// for a torrent already added, ErrSessionClosed after Run has returned, or a config error.
func (s *Session) Add(cfg Config) (*Swarm, error) {
	if cfg.Listener != nil {
		return nil, errors.New("peer: config: a torrent of a session has no listener of its own")
	}
	cfg.PeerID = s.peerID
	if cfg.Port == 0 {
		cfg.Port = s.port
	}
	sw, err := New(cfg)
	if err != nil {
		return nil, err
	}
	sw.attach(s, true)
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return nil, ErrSessionClosed
	case s.swarms[cfg.InfoHash] != nil:
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %v", ErrDuplicateTorrent, cfg.InfoHash)
	}
	s.swarms[cfg.InfoHash] = sw
	running := s.running
	s.mu.Unlock()
	if running {
		select {
		case s.start <- sw:
		case <-s.stopped:
			sw.finish(ErrSessionClosed)
		}
	}
	return sw, nil
}

// Remove stops the torrent's Swarm and takes it out of the session: its connections close
// (no other torrent's), it sends the stopped announce (bounded by its Timeouts.Stopped) and
// Remove returns once it has exited, with the error its run ended with (nil after a clean
// stop). The caller may then close the torrent's storage.
func (s *Session) Remove(ih metainfo.Hash) error {
	s.mu.Lock()
	sw := s.swarms[ih]
	delete(s.swarms, ih)
	var cancel context.CancelFunc
	if sw != nil {
		cancel = sw.stop
		sw.removed = true
	}
	s.mu.Unlock()
	if sw == nil {
		return fmt.Errorf("%w: %v", ErrUnknownTorrent, ih)
	}
	if cancel == nil { // never started: Run had not begun, or Add is handing it over
		sw.finish(nil)
	} else {
		cancel()
	}
	<-sw.exited
	return sw.Err()
}

// Swarm returns the torrent's Swarm, or nil when the session does not have it.
func (s *Session) Swarm(ih metainfo.Hash) *Swarm {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.swarms[ih]
}

// Swarms returns the session's swarms, ordered by info-hash.
func (s *Session) Swarms() []*Swarm {
	s.mu.Lock()
	out := make([]*Swarm, 0, len(s.swarms))
	for _, sw := range s.swarms {
		out = append(out, sw)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b *Swarm) int { return bytes.Compare(a.cfg.InfoHash[:], b.cfg.InfoHash[:]) })
	return out
}

// lookup routes a handshake: the Swarm of ih, or nil. It needs only the info-hash, so a
// torrent still without metadata can be routed too.
func (s *Session) lookup(ih metainfo.Hash) *Swarm {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.swarms[ih]
}

// infoHashes lists the torrents of the session, for the Incoming hook.
func (s *Session) infoHashes() []metainfo.Hash {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]metainfo.Hash, 0, len(s.swarms))
	for ih := range s.swarms {
		out = append(out, ih)
	}
	return out
}

// SetRateLimits changes the global upload and download limits (bytes per second; 0 or
// rate.Inf means unlimited) while the session runs.
func (s *Session) SetRateLimits(up, down rate.Limit) {
	s.up.setLimit(up)
	s.down.setLimit(down)
}

// RateLimits returns the global upload and download limits (rate.Inf when unlimited).
func (s *Session) RateLimits() (up, down rate.Limit) {
	return s.up.lim.Limit(), s.down.lim.Limit()
}

// SessionStats is a snapshot of what the session shares.
type SessionStats struct {
	Torrents int
	Conns    int // connected peers, all torrents together
	HalfOpen int // outgoing dials in flight
}

// Stats returns a snapshot of the session's shared state; per-torrent figures come from each
// Swarm's Stats.
func (s *Session) Stats() SessionStats {
	s.mu.Lock()
	n := len(s.swarms)
	s.mu.Unlock()
	return SessionStats{Torrents: n, Conns: int(s.conns.n.Load()), HalfOpen: int(s.halfOpen.n.Load())}
}

// LogValue shows the settings worth logging.
func (c SessionConfig) LogValue() slog.Value {
	attrs := []slog.Attr{slog.Int("max_conns", c.MaxConns), slog.Int("max_half_open", c.MaxHalfOpen), slog.Int("max_conns_per_ip", c.MaxConnsPerIP), slog.Int("port", int(c.Port))}
	for _, l := range []struct {
		key string
		lim rate.Limit
	}{{"up_limit", c.UploadLimit}, {"down_limit", c.DownloadLimit}} {
		if l.lim > 0 && l.lim != rate.Inf {
			attrs = append(attrs, slog.Float64(l.key, float64(l.lim)))
		}
	}
	return slog.GroupValue(attrs...)
}
