package peertest

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"

	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/bitfield"
	"github.com/swarm-bt/swarm/peer/storage"
)

// Options configure a Node. The zero value is a leecher on 127.0.0.1 over TCP, with no peer
// source, in-memory storage and discarded logs.
type Options struct {
	// Announcer is the peer source, usually a *Tracker.
	Announcer peer.Announcer
	// Network, when set, replaces TCP (for synctest bubbles).
	Network *Network
	// IP is the listen address; default 127.0.0.1.
	IP netip.Addr
	// Listener, when set, replaces the listener Start would open.
	Listener net.Listener
	// Seed starts with the whole payload (ignored when Storage is set).
	Seed bool
	// Storage replaces the default in-memory storage; Have lists its verified pieces.
	Storage storage.Storage
	Have    bitfield.Bitfield
	Logger  *slog.Logger
	// Configure, if set, adjusts the engine's config before New.
	Configure func(*peer.Config)
}

// Node is one running engine.
type Node struct {
	Swarm   *peer.Swarm
	Storage storage.Storage
	Addr    netip.AddrPort

	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// Start runs an engine for t until Stop or ctx's end.
func Start(ctx context.Context, t *Torrent, opt Options) (*Node, error) {
	if !opt.IP.IsValid() {
		opt.IP = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	cfg, err := nodeConfig(t, opt)
	if err != nil {
		return nil, err
	}
	sw, err := peer.New(cfg)
	if err != nil {
		_ = cfg.Listener.Close()
		return nil, fmt.Errorf("start node: %w", err)
	}
	if tr, ok := opt.Announcer.(*Tracker); ok {
		tr.SetAddr(sw.PeerID(), opt.IP)
	}
	ctx, cancel := context.WithCancel(ctx)
	n := &Node{Swarm: sw, Storage: cfg.Storage, cancel: cancel, done: make(chan struct{})}
	n.Addr, _ = netip.ParseAddrPort(cfg.Listener.Addr().String())
	go func() {
		defer close(n.done)
		n.err = sw.Run(ctx)
	}()
	return n, nil
}

func nodeConfig(t *Torrent, opt Options) (peer.Config, error) {
	st, have := opt.Storage, opt.Have
	switch {
	case st == nil && opt.Seed:
		var err error
		if st, err = t.SeedStorage(); err != nil {
			return peer.Config{}, err
		}
		have = bitfield.New(t.Info.NumPieces())
		for i := range t.Info.NumPieces() {
			have.Set(i)
		}
	case st == nil:
		st = storage.NewMemory(t.Info.TotalLength())
	}
	l, err := listen(opt)
	if err != nil {
		return peer.Config{}, err
	}
	logger := opt.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg := peer.Config{
		Info: t.Info, InfoHash: t.InfoHash, InfoBytes: t.Meta.InfoBytes, Storage: st, Have: have,
		Listener: l, Announcer: opt.Announcer, Logger: logger,
	}
	if opt.Network != nil {
		cfg.Dialer = opt.Network.Dial
	}
	if opt.Configure != nil {
		opt.Configure(&cfg)
	}
	return cfg, nil
}

func listen(opt Options) (net.Listener, error) {
	if opt.Listener != nil {
		return opt.Listener, nil
	}
	if opt.Network != nil {
		return opt.Network.Listen(opt.IP), nil
	}
	l, err := net.Listen("tcp", netip.AddrPortFrom(opt.IP, 0).String())
	if err != nil {
		return nil, fmt.Errorf("start node: %w", err)
	}
	return l, nil
}

// Done is closed when the engine's Run has returned.
func (n *Node) Done() <-chan struct{} { return n.done }

// Err is Run's result, valid after Done.
func (n *Node) Err() error { return n.err }

// Stop stops the engine, waits for Run to return and gives its result.
func (n *Node) Stop() error {
	n.cancel()
	<-n.done
	return n.err
}
