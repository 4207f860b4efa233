package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"

	"github.com/swarm-bt/swarm/peer/storage"
)

// sync makes what was written durable when --fsync asks for it.
func (s *session) sync() error {
	sy, ok := s.st.(storage.Syncer)
	if !s.flags.fsync || !ok {
		return nil
	}
	if err := sy.Sync(); err != nil {
		return fmt.Errorf("sync content: %w", err)
	}
	return nil
}

func (s *session) onComplete(ctx context.Context) {
	if err := s.sync(); err != nil {
		s.a.logger.Error("--fsync at completion failed", "err", err)
	}
	if s.flags.onComplete == "" {
		return
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", s.flags.onComplete)
	cmd.Dir = s.flags.dir
	cmd.Env = append(cmd.Environ(),
		"SWARM_NAME="+s.mi.Info.Name,
		"SWARM_PATH="+filepath.Join(s.flags.dir, s.mi.Info.Name),
		"SWARM_INFOHASH="+s.mi.InfoHash.String())
	cmd.Stdout, cmd.Stderr = s.a.stderr, s.a.stderr
	if err := cmd.Run(); err != nil {
		s.a.logger.Warn("--on-complete command failed", "err", err)
	}
}
