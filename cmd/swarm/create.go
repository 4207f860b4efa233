package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/swarm-bt/swarm/metainfo"
)

// createOpts holds the flags of swarm create.
type createOpts struct {
	announce    []string
	output      string
	pieceLength string
	private     bool
	comment     string
	source      string
	webSeeds    []string
	noDate      bool
	force       bool
	quiet       bool
	workers     int
	name        string
}

func newCreateCmd(a *app) *cobra.Command {
	var o createOpts
	cmd := &cobra.Command{
		Use:   "create PATH [-a URL[,URL...]]... [-o out.torrent]",
		Short: "Create a .torrent from a file or folder",
		Long: `Create hashes a file or folder into a v1 .torrent, using every core.

Folders are stored with their files sorted bytewise by path (mktorrent's order, so the
info-hash matches mktorrent's for the same piece length). Hidden files are included, empty
files too; symlinks to files are followed; symlinks to folders, special files and empty
folders are refused.

Each -a flag is one tracker tier; separate several URLs of one tier with commas (as mktorrent
does). Without --piece-length a power of two from 16KiB to 16MiB is chosen to give 1,000 to
2,000 pieces.`,
		Example: `  swarm create ./video.mkv -a http://tracker.example/announce
  swarm create ./photos -a http://t1/announce,http://t2/announce -a udp://backup:6969 \
      --piece-length 1MiB --private --source MYTRACKER -o photos.torrent`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCreate(cmd.Context(), a, args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.announce, "announce", "a", nil, "tracker URL tier, URLs comma-separated (repeatable: one tier per flag)")
	f.StringVarP(&o.output, "output", "o", "", `output file (default "<name>.torrent"; "-" writes to stdout)`)
	f.StringVarP(&o.pieceLength, "piece-length", "l", "", "piece length, a power of two from 16KiB to 128MiB, or its exponent as mktorrent takes it (18 = 256KiB) (default automatic)")
	f.BoolVarP(&o.private, "private", "p", false, "set the private flag (BEP 27): no DHT, PEX or LSD")
	f.StringVarP(&o.comment, "comment", "c", "", "comment")
	f.StringVarP(&o.source, "source", "s", "", "source string stored in the info dictionary (changes the info-hash)")
	f.StringArrayVarP(&o.webSeeds, "web-seed", "w", nil, "web seed URL (BEP 19; repeatable)")
	f.BoolVarP(&o.noDate, "no-date", "d", false, "leave out the creation date")
	f.BoolVarP(&o.force, "force", "f", false, "overwrite the output file if it exists")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no progress bar")
	f.IntVar(&o.workers, "workers", 0, "hashing goroutines (default: number of CPUs)")
	f.StringVarP(&o.name, "name", "n", "", "the torrent's name, the file or folder clients save (default: PATH's base name)")
	return cmd
}

func runCreate(ctx context.Context, a *app, path string, o createOpts) error {
	cfg, err := o.config(path)
	if err != nil {
		return err
	}
	out := o.output
	if out == "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return fmt.Errorf("create: %w", err)
		}
		out = filepath.Base(abs) + ".torrent"
		if o.name != "" {
			out = o.name + ".torrent"
		}
	}
	if out != "-" && !o.force {
		if _, err := os.Lstat(out); err == nil {
			return fmt.Errorf("create: %s exists (use --force to overwrite)", out)
		}
	}
	bar := &createBar{a: a, quiet: o.quiet}
	cfg.Progress = bar.update
	m, err := metainfo.Create(ctx, cfg)
	bar.finish()
	if err != nil {
		return err // already names the operation: "create torrent: ..."
	}
	data, err := m.Marshal()
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	if out == "-" {
		_, err = a.stdout.Write(data)
		return err
	}
	if err := writeTorrentFile(out, data, o.force); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	fmt.Fprintf(a.stdout, "%s: %s, %d pieces of %s, info-hash %s\n", out, humanBytes(m.Info.TotalLength()),
		m.Info.NumPieces(), humanBytes(m.Info.PieceLength), m.InfoHash)
	return nil
}

// config turns the flags into a metainfo.CreateConfig.
func (o createOpts) config(path string) (metainfo.CreateConfig, error) {
	cfg := metainfo.CreateConfig{
		Path: path, Name: o.name, Comment: o.comment, Source: o.source, Private: o.private,
		WebSeeds: o.webSeeds, NoDate: o.noDate, Workers: o.workers, CreatedBy: "swarm",
	}
	if o.workers < 0 {
		return cfg, fmt.Errorf("create: --workers %d: want 1 or more (0 = one per CPU)", o.workers)
	}
	for _, a := range o.announce {
		var tier []string
		for _, u := range strings.Split(a, ",") {
			if u = strings.TrimSpace(u); u != "" {
				if err := checkTrackerURL(u); err != nil {
					return cfg, fmt.Errorf("create: --announce: %w", err)
				}
				tier = append(tier, u)
			}
		}
		if len(tier) == 0 {
			return cfg, fmt.Errorf("create: --announce %q: no URL", a)
		}
		cfg.Announce = append(cfg.Announce, tier)
	}
	if o.pieceLength != "" {
		n, err := parsePieceLength("--piece-length", o.pieceLength)
		if err != nil {
			return cfg, fmt.Errorf("create: %w", err)
		}
		cfg.PieceLength = n
	}
	return cfg, nil
}

// writeTorrentFile writes data to path, refusing to replace an existing file unless force.
func writeTorrentFile(path string, data []byte, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if !force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_EXCL
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s exists (use --force to overwrite)", path)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// createBar draws a hashing progress bar on stderr when it is a terminal and --quiet is not
// given; the bar is made on the first callback, when the total is known.
type createBar struct {
	a     *app
	quiet bool
	bar   *progressbar.ProgressBar
}

// update is the metainfo progress callback; Create calls it from one goroutine at a time.
func (b *createBar) update(hashed, total int64) {
	if b.quiet {
		return
	}
	if b.bar == nil {
		if b.bar = b.a.newBar(total, "hashing", false); b.bar == nil {
			b.quiet = true // no terminal
			return
		}
	}
	_ = b.bar.Set64(hashed)
}

func (b *createBar) finish() {
	if b.bar != nil {
		_ = b.bar.Finish()
	}
}
