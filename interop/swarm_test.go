package interop

import (
	"context"
	"fmt"
	"testing"
)

// swarm's own roles run the binary TestMain built, as users run it. The DHT is off (it
// would bootstrap from the public routers): the DHT tests turn it on with loopback nodes.

func swarmArgs(cmd string, tf *torrentFile, dir string, h host) []string {
	return []string{env.swarm, "--log-level=debug", cmd, "-q", tf.Path, "-d", dir,
		"--bind", h.IP, "--port", fmt.Sprint(h.Port), "--no-dht"}
}

func seedSwarm(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host) *node {
	return seedSwarmWith(t, ctx, tf, dir, h)
}

func seedSwarmWith(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host, extra ...string) *node {
	t.Helper()
	needSwarm(t)
	args := append(swarmArgs("seed", tf, dir, h), extra...)
	return &node{procs: []*proc{startProc(t, ctx, "swarm-seed", args...)}}
}

func leechSwarm(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host) *node {
	return leechSwarmWith(t, ctx, tf, dir, h)
}

func leechSwarmWith(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host, extra ...string) *node {
	t.Helper()
	needSwarm(t)
	args := append(swarmArgs("get", tf, dir, h), extra...)
	return exitNode(startProc(t, ctx, "swarm-get", args...))
}
