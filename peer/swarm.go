// Package peer is the BitTorrent engine: a Swarm downloads and uploads one torrent's verified
// pieces directly between peers (BEP 3).
//
// One goroutine, Swarm.Run, owns all of a torrent's mutable state (peers keyed by a small ID,
// their bitfields and flags, the picker and the choker state): there are no engine mutexes.
// Every connection has a reader goroutine, which decodes capped messages and sends them to the
// loop as events, and a writer goroutine, which owns all writes, charges the upload limiter for
// piece data and sends keep-alives. Blocking work (disk writes, hashing, dials, announces) runs
// off the loop and reports back as events. See docs/engine.md for the hard parts.
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
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/swarm-bt/swarm/choke"
	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer/bitfield"
	"github.com/swarm-bt/swarm/peer/mse"
	"github.com/swarm-bt/swarm/peer/storage"
)

// Config configures a Swarm, the session of one torrent. Zero fields take the defaults in the
// comments.
type Config struct {
	Info     *metainfo.Info
	InfoHash metainfo.Hash
	// Storage holds the payload. The Swarm never closes it: the caller does after Run returns.
	Storage storage.Storage
	// InfoBytes is the raw info dictionary, served to peers that ask for it (BEP 9); nil
	// means we do not offer metadata.
	InfoBytes []byte
	// Have is the set of verified pieces (from storage.Check); the zero value means none.
	Have bitfield.Bitfield
	// PeerID is ours; zero means an Azureus-style (BEP 20) "-SW0100-" plus random bytes.
	PeerID [20]byte
	// Listener accepts incoming connections when the swarm runs on its own (Run); nil means
	// none. Run closes it when it returns. A swarm of a Session has none: the session listens.
	Listener net.Listener
	// Port is the port announced to peer sources; it defaults to the Listener's (or the
	// session's).
	Port uint16
	// Announcer is the peer source announced to (the tracker client); nil means none.
	Announcer Announcer
	// MaxPeers bounds connected plus dialing peers; default 50.
	MaxPeers int
	// MaxConnsPerIP is SessionConfig.MaxConnsPerIP for a Swarm run on its own (Run); a
	// Session's torrents share the session's.
	MaxConnsPerIP int
	// UploadLimiter and DownloadLimiter bound piece payload rates; nil means unlimited. They
	// may be shared across torrents for a global limit. A burst smaller than one block is
	// charged in burst-sized steps. NewLimiter makes one with a sensible burst.
	UploadLimiter, DownloadLimiter *rate.Limiter
	// Choke tunes the choker. Its SeedPolicy is set from SeedFastestUpload: the choke
	// package's zero value (choke.SeedFastestUpload) is not the engine's default.
	Choke choke.Config
	// SeedFastestUpload makes a seed unchoke the peers it uploads to fastest
	// (choke.SeedFastestUpload). By default a seed rotates its slots among interested peers
	// (choke.SeedRoundRobin, libtorrent's default too), which gives a free-rider no sticky
	// slot (docs/freerider.md).
	SeedFastestUpload bool
	// Logger receives the swarm's logs; nil means slog.Default().
	Logger *slog.Logger
	// Rand is the only source of randomness; nil means seeded from crypto/rand. The Swarm's
	// loop owns it after New.
	Rand *rand.Rand
	// Dialer opens outgoing connections; nil means a net.Dialer. Only for Run: a session
	// dials with its own.
	Dialer func(ctx context.Context, network, addr string) (net.Conn, error)
	// Encryption is the MSE policy (see SessionConfig.Encryption); zero means plain only. Only
	// for Run: a session has one policy for all its torrents.
	Encryption mse.Policy
	// DiskWorkers is the size of the pool that writes blocks and verifies pieces; default 4.
	// Only for Run: a session has one pool for all its torrents.
	DiskWorkers int
	// HashMemory bounds the bytes of pieces being downloaded whose blocks stay in memory until
	// the piece is hashed, so that it need not be read back from disk; 0 means 16 MiB,
	// negative means none (every piece is read back).
	HashMemory int64
	Timeouts   Timeouts
}

// Timeouts are the engine's durations. Zero fields take the defaults in the comments.
type Timeouts struct {
	Handshake time.Duration // whole handshake exchange; default 10 s
	Dial      time.Duration // TCP connect; default 10 s
	Request   time.Duration // a block request unanswered this long is re-requested elsewhere; default 60 s
	Idle      time.Duration // a connection silent, or not reading, this long is closed; default 3 min
	KeepAlive time.Duration // a keep-alive is sent after this long without writing; default 90 s
	// Announce is the regular announce interval when the peer source gives none; default 30 min.
	Announce time.Duration
	// MinAnnounce is the least time between early announces made for want of peers, and the
	// first retry delay after a failed announce; default 30 s.
	MinAnnounce time.Duration
	// AnnounceCall bounds one announce call; default 30 s. The stopped announce made as Run
	// returns is bounded by Stopped, default 5 s.
	AnnounceCall, Stopped time.Duration
	// RedialMin and RedialMax bound the exponential backoff before dialing an address again
	// after it failed or went away; defaults 5 s and 2 min.
	RedialMin, RedialMax time.Duration
}

// ErrAlreadyRun is returned by a second call to Run.
var ErrAlreadyRun = errors.New("peer: swarm already run")

// Swarm is the session of one torrent. Create it with New, start it with Run; the other
// methods are safe for concurrent use and talk to the running loop over a channel.
type Swarm struct {
	cfg      Config
	log      *slog.Logger
	rng      *rand.Rand
	up, down *rate.Limiter
	peerID   [20]byte

	// sess is the session the swarm runs in: the one that Add made it in, or a private one
	// that Run makes. upLane and downLane are the swarm's lanes in its global limiters.
	sess             *Session
	upLane, downLane *lane
	owned            bool               // made by Session.Add: the session runs it
	stop             context.CancelFunc // ends the run; guarded by sess.mu
	removed          bool               // Remove took it out; guarded by sess.mu

	events    chan event
	commands  chan func()
	mailbox   chan []sourcedAddr // AddPeers' addresses; capacity 1, merged by senders
	completed atomic.Pointer[chan struct{}]
	loopDone  chan struct{} // the loop has returned: nobody handles events any more
	exited    chan struct{} // the run has ended (or will never start)
	runErr    error         // written before exited closes
	finished  sync.Once
	final     atomic.Pointer[Stats]
	started   atomic.Bool // Run was called or a session took the swarm
	live      atomic.Bool // the loop runs
	wg        sync.WaitGroup
	diskWG    sync.WaitGroup // jobs given to the session's disk pool and not yet reported

	// The fields below are owned by Run's loop.
	peers   peerTable
	dl      download
	disk    diskQueue
	ann     announceState
	chk     chokeState
	traffic traffic
	seeding bool
	sug     suggester // while seeding: which leecher each piece was given to (swarm_suggest.go)
	fatal   error
	now     time.Time
}

// New validates cfg and returns a Swarm ready to Run.
func New(cfg Config) (*Swarm, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	s := &Swarm{
		cfg:      cfg,
		log:      cfg.Logger.With("infohash", cfg.InfoHash),
		rng:      cfg.Rand,
		peerID:   cfg.PeerID,
		up:       orUnlimited(cfg.UploadLimiter),
		down:     orUnlimited(cfg.DownloadLimiter),
		events:   make(chan event, 256),
		commands: make(chan func()),
		mailbox:  make(chan []sourcedAddr, 1),
		loopDone: make(chan struct{}),
		exited:   make(chan struct{}),
	}
	completed := make(chan struct{})
	s.completed.Store(&completed)
	if s.peerID == ([20]byte{}) {
		s.peerID = NewPeerID(s.rng)
	}
	s.peers = newPeerTable()
	s.dl = newDownload(cfg.Info, cfg.Have, s.rng)
	s.seeding = s.dl.pk.Done()
	if s.seeding {
		close(completed)
		s.ann.completedQueued = true
	}
	st := s.stats() // what Stats gives before Run starts
	s.final.Store(&st)
	return s, nil
}

func (c *Config) validate() error {
	switch {
	case c.Info == nil:
		return errors.New("peer: config: no info")
	case c.Info.PieceLength <= 0 || c.Info.NumPieces() == 0:
		return errors.New("peer: config: info has no pieces")
	case c.Storage == nil:
		return errors.New("peer: config: no storage")
	case c.Have.Len() != 0 && c.Have.Len() != c.Info.NumPieces():
		return fmt.Errorf("peer: config: have covers %d pieces, torrent has %d", c.Have.Len(), c.Info.NumPieces())
	}
	if err := pickerConfig(c.Info, nil).Validate(); err != nil {
		return fmt.Errorf("peer: config: %w", err)
	}
	return nil
}

func (c *Config) setDefaults() {
	if c.Have.Len() == 0 {
		c.Have = bitfield.New(c.Info.NumPieces())
	} else {
		c.Have = c.Have.Clone()
	}
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
	c.MaxPeers = orDefault(c.MaxPeers, 50)
	c.DiskWorkers = orDefault(c.DiskWorkers, 4)
	if c.HashMemory == 0 {
		c.HashMemory = 16 << 20
	}
	c.Choke.Interval = orDefault(c.Choke.Interval, 10*time.Second)
	c.Choke.Slots = orDefault(c.Choke.Slots, 4)
	c.Choke.SeedPolicy = choke.SeedRoundRobin
	if c.SeedFastestUpload {
		c.Choke.SeedPolicy = choke.SeedFastestUpload
	}
	c.Timeouts.setDefaults()
}

func (t *Timeouts) setDefaults() {
	t.Handshake = orDefault(t.Handshake, 10*time.Second)
	t.Dial = orDefault(t.Dial, 10*time.Second)
	t.Request = orDefault(t.Request, 60*time.Second)
	t.Idle = orDefault(t.Idle, 3*time.Minute)
	t.KeepAlive = orDefault(t.KeepAlive, 90*time.Second)
	t.Announce = orDefault(t.Announce, 30*time.Minute)
	t.MinAnnounce = orDefault(t.MinAnnounce, 30*time.Second)
	t.AnnounceCall = orDefault(t.AnnounceCall, 30*time.Second)
	t.Stopped = orDefault(t.Stopped, 5*time.Second)
	t.RedialMin = orDefault(t.RedialMin, 5*time.Second)
	t.RedialMax = orDefault(t.RedialMax, 2*time.Minute)
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// PeerID returns our peer ID.
func (s *Swarm) PeerID() [20]byte { return s.peerID }

// Completed returns a channel closed when every piece is verified (at once if the torrent was
// complete at start). A recheck that finds verified pieces damaged makes a new channel: call
// Completed again after Recheck to wait for the new completion.
func (s *Swarm) Completed() <-chan struct{} { return *s.completed.Load() }

// InfoHash returns the torrent's info-hash.
func (s *Swarm) InfoHash() metainfo.Hash { return s.cfg.InfoHash }

// Info returns the torrent's info dictionary; the caller must not modify it.
func (s *Swarm) Info() *metainfo.Info { return s.cfg.Info }

// Done returns a channel closed when the swarm has stopped: Run (or its session's run of it)
// has returned, or Remove took it out before it started.
func (s *Swarm) Done() <-chan struct{} { return s.exited }

// Err returns the error the swarm stopped with (nil after a clean stop, or while it runs).
// It is valid once Done is closed.
func (s *Swarm) Err() error {
	select {
	case <-s.exited:
		return s.runErr
	default:
		return nil
	}
}

// finish records the end of the swarm's run, once.
func (s *Swarm) finish(err error) {
	s.finished.Do(func() {
		s.runErr = err
		close(s.exited)
	})
}

// AddPeers gives the swarm addresses to connect to from the user (SourceManual); see
// AddPeersFrom.
func (s *Swarm) AddPeers(addrs ...netip.AddrPort) { s.AddPeersFrom(SourceManual, addrs...) }

// AddPeersFrom gives the swarm addresses to connect to, from a source other than the
// Announcer (the DHT, a magnet's x.pe, the command line), recorded as where the peer came
// from. It never blocks: it may be called before Run (the addresses are dialed when Run
// starts) and after it (they are ignored).
func (s *Swarm) AddPeersFrom(src PeerSource, list ...netip.AddrPort) {
	addrs := make([]sourcedAddr, len(list))
	for i, a := range list {
		addrs[i] = sourcedAddr{a, src}
	}
	for {
		select { // merge with addresses the loop has not taken yet
		case old := <-s.mailbox:
			addrs = append(old, addrs...)
		default:
		}
		select {
		case s.mailbox <- addrs:
			return
		default: // another caller filled the mailbox meanwhile: merge again
		}
	}
}

// Stats returns a snapshot of the swarm's statistics: from the running loop, or the state
// at New before Run starts, or the last snapshot after Run has returned.
func (s *Swarm) Stats() Stats {
	if !s.live.Load() {
		return *s.final.Load()
	}
	reply := make(chan Stats, 1)
	if !s.do(func() { reply <- s.stats() }) {
		return *s.final.Load()
	}
	return <-reply
}

// SetRateLimits changes the torrent's own upload and download limits (bytes per second; 0 or
// rate.Inf means unlimited) while the swarm runs; the session's global limits apply as well
// (Session.SetRateLimits). When the limiters came from Config (and are maybe shared with
// other torrents), this changes them for all their users.
func (s *Swarm) SetRateLimits(up, down rate.Limit) {
	setLimit(s.up, up)
	setLimit(s.down, down)
}

// do runs f on the loop; it reports false if the loop has returned or never runs.
func (s *Swarm) do(f func()) bool {
	select {
	case s.commands <- f:
		return true
	case <-s.loopDone:
		return false
	case <-s.exited:
		return false
	}
}

// call runs f on the loop and waits for it; it reports false if the loop has returned or
// never runs.
func (s *Swarm) call(f func()) bool {
	done := make(chan struct{})
	if !s.do(func() { f(); close(done) }) {
		return false
	}
	<-done // the loop runs a command as soon as it takes it
	return true
}

// LogValue shows the settings worth logging (no storage, listener or limiter internals).
func (c Config) LogValue() slog.Value {
	attrs := []slog.Attr{slog.Any("infohash", c.InfoHash), slog.Int("max_peers", c.MaxPeers), slog.Int("port", int(c.Port))}
	if c.Info != nil {
		attrs = append(attrs, slog.String("name", c.Info.Name), slog.Int("pieces", c.Info.NumPieces()))
	}
	for _, l := range []struct {
		key string
		lim *rate.Limiter
	}{{"up_limit", c.UploadLimiter}, {"down_limit", c.DownloadLimiter}} {
		if l.lim != nil && l.lim.Limit() != rate.Inf {
			attrs = append(attrs, slog.Float64(l.key, float64(l.lim.Limit())))
		}
	}
	return slog.GroupValue(attrs...)
}
