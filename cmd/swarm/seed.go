package main

import (
	"github.com/spf13/cobra"
)

func newSeedCmd(a *app) *cobra.Command {
	f := &sessionFlags{seed: true}
	cmd := &cobra.Command{
		Use:   "seed FILE.torrent [-d DIR]",
		Short: "Check the content at DIR/<name> and seed it until stopped",
		Long: `Check the content at DIR/<name> (DIR defaults to the current folder) against the torrent,
then seed it until stopped with Ctrl-C. Missing or damaged pieces are downloaded from the
swarm first, so a partial copy becomes a full seed.

If the files change on disk while seeding, send SIGHUP (kill -HUP PID) to check them again:
damaged pieces are no longer offered and are downloaded again from the swarm. The peer port
stays the same. --recheck-every does the same periodically.`,
		Example: `  swarm seed album.torrent -d ~/Music
  swarm seed big.torrent --up-rate 1MiB/s --port 51413`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSessions(cmd.Context(), cmd, a, args, f)
		},
	}
	f.register(cmd)
	f.needContent = true
	cmd.Flags().BoolVar(&f.allowMissing, "allow-missing", false,
		"start even when none of the content is in DIR, and download it (as get --seed does)")
	return cmd
}
