package main

import (
	"github.com/spf13/cobra"
)

func newGetCmd(a *app) *cobra.Command {
	f := &sessionFlags{}
	cmd := &cobra.Command{
		Use:   "get FILE.torrent [-d DIR]",
		Short: "Download a torrent into DIR/<name>, verify it, and optionally keep seeding",
		Long: `Download a torrent into DIR/<name> (DIR defaults to the current folder). Pieces already
on disk are checked first and not downloaded again, so an interrupted download resumes.

By default swarm exits 0 once every piece is verified. --seed keeps seeding until stopped;
--seed-ratio and --seed-time keep seeding until the ratio or time is reached.
Exit status: 0 complete, 3 stopped before completion, 1 on error.`,
		Example: `  swarm get ubuntu.iso.torrent -d ~/Downloads
  swarm get big.torrent --down-rate 2MB/s --seed-ratio 1.5
  swarm get show.torrent --on-complete 'notify-send "$SWARM_NAME done"'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSessions(cmd.Context(), a, args, f)
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&f.seed, "seed", false, "keep seeding after the download completes, until stopped")
	cmd.Flags().Float64Var(&f.seedRatio, "seed-ratio", 0, "after completion, seed until uploaded/size reaches this ratio")
	cmd.Flags().DurationVar(&f.seedTime, "seed-time", 0, "after completion, seed for this long (e.g. 30m)")
	cmd.Flags().BoolVar(&f.fsync, "fsync", false, "fsync the download at 100% (before --on-complete) and at exit; "+
		"off by default, like other clients (a resume check finds what a system crash loses)")
	return cmd
}
