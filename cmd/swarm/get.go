package main

import (
	"github.com/spf13/cobra"
)

func newGetCmd(a *app) *cobra.Command {
	f := &sessionFlags{}
	cmd := &cobra.Command{
		Use:   "get FILE.torrent|MAGNET... [-d DIR]",
		Short: "Download a torrent into DIR/<name>, verify it, and optionally keep seeding",
		Long: `Download a torrent into DIR/<name> (DIR defaults to the current folder). Pieces already
on disk are checked first and not downloaded again, so an interrupted download resumes.

By default swarm exits 0 once every piece is verified. --seed keeps seeding until stopped;
--seed-ratio and --seed-time keep seeding until the ratio or time is reached.
A magnet link works like a .torrent: swarm fetches the info dictionary from the link's peers
(x.pe, --peer) and trackers (tr), verifies it against the info-hash, keeps it in the
metadata cache (so running the link again does not fetch it again) and downloads.
--save-torrent writes it as a .torrent file too.
Exit status: 0 complete, 3 stopped before completion, 1 on error.`,
		Example: `  swarm get ubuntu.iso.torrent -d ~/Downloads
  swarm get big.torrent --down-rate 2MB/s --seed-ratio 1.5
  swarm get show.torrent --on-complete 'notify-send "$SWARM_NAME done"'
  swarm get 'magnet:?xt=urn:btih:...&tr=http://tracker/announce' --save-torrent show.torrent`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSessions(cmd.Context(), cmd, a, args, f)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&f.magnet.saveTorrent, "save-torrent", "", "for a magnet link: also write the fetched torrent (with the link's trackers) to this file")
	cmd.Flags().StringVar(&f.magnet.cacheDir, "metadata-cache", "", "folder of fetched magnet metadata (default: the user cache folder's swarm/metadata)")
	cmd.Flags().BoolVar(&f.seed, "seed", false, "keep seeding after the download completes, until stopped")
	cmd.Flags().Float64Var(&f.seedRatio, "seed-ratio", 0, "after completion, seed until uploaded/size reaches this ratio")
	cmd.Flags().DurationVar(&f.seedTime, "seed-time", 0, "after completion, seed for this long (e.g. 30m)")
	cmd.Flags().BoolVar(&f.fsync, "fsync", false, "fsync the download at 100% (before --on-complete) and at exit; "+
		"off by default, like other clients (a resume check finds what a system crash loses)")
	return cmd
}
