package interop

import (
	"context"
	"fmt"
	"testing"
)

// swarm's own roles run the binary TestMain built, as users run it.

func swarmArgs(cmd string, tf *torrentFile, dir string, h host) []string {
	return []string{env.swarm, "--log-level=debug", cmd, "-q", tf.Path, "-d", dir,
		"--bind", h.IP, "--port", fmt.Sprint(h.Port)}
}

func seedSwarm(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host) *node {
	t.Helper()
	needSwarm(t)
	return &node{procs: []*proc{startProc(t, ctx, "swarm-seed", swarmArgs("seed", tf, dir, h)...)}}
}

func leechSwarm(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host) *node {
	t.Helper()
	needSwarm(t)
	return exitNode(startProc(t, ctx, "swarm-get", swarmArgs("get", tf, dir, h)...))
}
