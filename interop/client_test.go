package interop

import (
	"context"
	"testing"
)

// clientKind is one BitTorrent implementation in the matrix, with its two roles and the
// quirks that decide how a case is arranged.
type clientKind struct {
	name string
	// seed starts the client seeding tf from dir, the folder holding the payload. It returns
	// once the process runs; the harness then waits for the tracker to list it as a seeder.
	seed func(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host) *node
	// leech starts the client downloading tf into dir.
	leech func(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host) *node
	// usesTrackerPeers is false for a leecher that ignores the loopback peers a tracker lists
	// (Transmission): it gets data only over connections the seeder opens.
	usesTrackerPeers bool
	// seedDialsOut is true for a seeder that connects to the peers the tracker lists.
	seedDialsOut bool
	// skipsEmptyFiles is true for a client that does not create 0-byte files (Transmission).
	skipsEmptyFiles bool
}

// node is a running client.
type node struct {
	procs []*proc
	// complete waits until a leecher has the whole payload on disk.
	complete func(ctx context.Context) error
}

var (
	kindSwarm = &clientKind{name: "swarm", seed: seedSwarm, leech: leechSwarm,
		usesTrackerPeers: true, seedDialsOut: true}
	kindLibtorrent = &clientKind{name: "libtorrent", seed: seedLibtorrent, leech: leechLibtorrent,
		usesTrackerPeers: true, seedDialsOut: true}
	kindTransmission = &clientKind{name: "transmission", seed: seedTransmission,
		leech: leechTransmission, skipsEmptyFiles: true}
	kindAria2 = &clientKind{name: "aria2", seed: seedAria2, leech: leechAria2,
		usesTrackerPeers: true, seedDialsOut: true}
	clientKinds = []*clientKind{kindSwarm, kindLibtorrent, kindTransmission, kindAria2}
)

// exitNode is a node whose leecher role ends, with status 0, when the download is complete.
func exitNode(p *proc) *node {
	return &node{procs: []*proc{p}, complete: p.wait}
}
