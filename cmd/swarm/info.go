package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/swarm-bt/swarm/metainfo"
)

// infoJSON is what swarm info --json prints.
type infoJSON struct {
	Name         string         `json:"name"`
	InfoHash     string         `json:"info_hash"`
	Size         int64          `json:"size"`
	PieceLength  int64          `json:"piece_length"`
	Pieces       int            `json:"pieces"`
	Private      bool           `json:"private"`
	Source       string         `json:"source,omitempty"`
	Comment      string         `json:"comment,omitempty"`
	CreatedBy    string         `json:"created_by,omitempty"`
	CreationDate int64          `json:"creation_date,omitempty"`
	Trackers     [][]string     `json:"trackers"`
	WebSeeds     []string       `json:"web_seeds,omitempty"`
	Files        []infoFileJSON `json:"files"`
	Magnet       string         `json:"magnet"`
}

type infoFileJSON struct {
	Path   string `json:"path"`
	Length int64  `json:"length"`
}

func newInfoCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "info FILE.torrent|MAGNET",
		Short: "Show what a .torrent or a magnet link holds",
		Long: `Info validates a .torrent and prints its name, info-hash, size, piece length and count,
files, trackers (by tier), private flag and magnet link. Given a magnet link, it prints the
info-hash, name, trackers, web seeds and peer addresses the link holds. --json prints the
same as JSON.`,
		Example: `  swarm info ubuntu.iso.torrent
  swarm info photos.torrent --json | jq -r .info_hash
  swarm info 'magnet:?xt=urn:btih:...&dn=name&tr=http://tracker/announce'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if isMagnet(args[0]) {
				return writeMagnetInfo(a.stdout, args[0], asJSON)
			}
			m, err := metainfo.Load(args[0])
			if err != nil {
				return err // already names the operation: "load torrent FILE: ..."
			}
			v := newInfoJSON(m)
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(v)
			}
			return v.writeText(a.stdout)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newInfoJSON(m *metainfo.MetaInfo) infoJSON {
	v := infoJSON{
		Name: m.Info.Name, InfoHash: m.InfoHash.String(), Size: m.Info.TotalLength(),
		PieceLength: m.Info.PieceLength, Pieces: m.Info.NumPieces(), Private: m.Info.Private,
		Source: m.Info.Source, Comment: m.Comment, CreatedBy: m.CreatedBy,
		CreationDate: m.CreationDate, Trackers: m.Trackers(), WebSeeds: m.URLList, Magnet: m.Magnet(),
	}
	if v.Trackers == nil {
		v.Trackers = [][]string{}
	}
	for _, e := range m.Info.FileEntries() {
		v.Files = append(v.Files, infoFileJSON{Path: filepath.ToSlash(e.Path), Length: e.Length})
	}
	return v
}

// writeText prints the human form: aligned fields, then trackers, web seeds and files.
func (v infoJSON) writeText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(k, val string) { fmt.Fprintf(tw, "%s:\t%s\n", k, val) }
	line("Name", v.Name)
	line("Info-hash", v.InfoHash)
	line("Size", fmt.Sprintf("%s (%d bytes)", humanBytes(v.Size), v.Size))
	line("Pieces", fmt.Sprintf("%d of %s", v.Pieces, humanBytes(v.PieceLength)))
	line("Private", map[bool]string{true: "yes", false: "no"}[v.Private])
	for _, kv := range [][2]string{{"Source", v.Source}, {"Comment", v.Comment}, {"Created by", v.CreatedBy}} {
		if kv[1] != "" {
			line(kv[0], kv[1])
		}
	}
	if v.CreationDate != 0 {
		line("Created", time.Unix(v.CreationDate, 0).UTC().Format(time.RFC3339))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "Trackers:%s\n", infoNone(len(v.Trackers)))
	for i, tier := range v.Trackers {
		fmt.Fprintf(w, "  tier %d: %s\n", i+1, strings.Join(tier, " "))
	}
	if len(v.WebSeeds) > 0 {
		fmt.Fprintln(w, "Web seeds:")
		for _, s := range v.WebSeeds {
			fmt.Fprintf(w, "  %s\n", s)
		}
	}
	fmt.Fprintf(w, "Files (%d):\n", len(v.Files))
	for _, f := range v.Files {
		fmt.Fprintf(w, "  %10s  %s\n", humanBytes(f.Length), f.Path)
	}
	_, err := fmt.Fprintf(w, "Magnet: %s\n", v.Magnet)
	return err
}

func infoNone(n int) string {
	if n == 0 {
		return " none"
	}
	return ""
}

// humanBytes prints a byte count with a binary unit: 512 B, 1.5 KiB, 256 KiB, 1.0 GiB.
func humanBytes(n int64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n)/1024, 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if f == float64(int64(f)) {
		return fmt.Sprintf("%d %ciB", int64(f), units[i])
	}
	return fmt.Sprintf("%.1f %ciB", f, units[i])
}
