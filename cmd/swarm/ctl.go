package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/swarm-bt/swarm/daemon"
)

// ctlClient talks to a daemon's API.
type ctlClient struct {
	base, token string
	hc          *http.Client
	json        bool
	out         io.Writer
}

func newCtlCmd(a *app) *cobra.Command {
	c := &ctlClient{hc: &http.Client{Timeout: 60 * time.Second}}
	var tokenFile string
	cmd := &cobra.Command{
		Use:   "ctl [--url URL] [--token-file FILE] COMMAND",
		Short: "Drive a running swarm daemon: add, ls, info, rm, pause, resume, peers",
		Long: `Drive a running swarm daemon through its JSON API, as transmission-remote does.
A torrent is named by its info-hash, a unique prefix of it, or its exact name.`,
		Example: `  swarm ctl add ubuntu.iso.torrent -d ~/Downloads
  swarm ctl ls --json | jq '.[] | select(.progress < 1) | .name'
  swarm ctl pause 3f2a
  swarm ctl rm 3f2a --delete-data`,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.setupLogger(); err != nil {
				return err
			}
			c.out = a.stdout
			b, err := os.ReadFile(tokenFile)
			if err != nil {
				return fmt.Errorf("read the daemon's token (--token-file): %w", err)
			}
			c.token = strings.TrimSpace(string(b))
			c.base = strings.TrimRight(c.base, "/")
			return nil
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&c.base, "url", "http://127.0.0.1:9091", "the daemon's API address")
	pf.StringVar(&tokenFile, "token-file", filepath.Join(defaultDataDir(), "token"), "file holding the daemon's token (DIR/token)")
	pf.BoolVar(&c.json, "json", false, "print the API's JSON")
	cmd.AddCommand(c.addCmd(), c.lsCmd(), c.infoCmd(), c.rmCmd(), c.simpleCmd("pause"), c.simpleCmd("resume"), c.simpleCmd("recheck"), c.peersCmd())
	return cmd
}

// call sends one API request and decodes the reply into out (when non-nil).
func (c *ctlClient) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+"/api/v1"+path, rd)
	if err != nil {
		return fmt.Errorf("--url: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("X-Swarm-Request", "ctl")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("reach the daemon: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("read the daemon's reply: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e struct{ Error string }
		if json.Unmarshal(raw, &e) == nil && e.Error != "" {
			return fmt.Errorf("daemon: %s (HTTP %d)", e.Error, resp.StatusCode)
		}
		return fmt.Errorf("daemon: HTTP %s", resp.Status)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("decode the daemon's reply: %w", err)
		}
	}
	return nil
}

func (c *ctlClient) printJSON(v any) error {
	enc := json.NewEncoder(c.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// resolve turns an info-hash, a unique prefix of one, or an exact name into an info-hash.
func (c *ctlClient) resolve(ctx context.Context, arg string) (string, error) {
	var list []daemon.Status
	if err := c.call(ctx, http.MethodGet, "/torrents", nil, &list); err != nil {
		return "", err
	}
	var found []string
	for _, s := range list {
		if s.InfoHash == strings.ToLower(arg) {
			return s.InfoHash, nil
		}
		if strings.HasPrefix(s.InfoHash, strings.ToLower(arg)) || s.Name == arg {
			found = append(found, s.InfoHash)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("no torrent matches %q", arg)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("%q matches %d torrents: give more of the info-hash", arg, len(found))
}

func (c *ctlClient) addCmd() *cobra.Command {
	var dir string
	var paused bool
	cmd := &cobra.Command{
		Use:   "add FILE.torrent|MAGNET [-d SAVEDIR]",
		Short: "Add a torrent file or a magnet link",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := map[string]any{"paused": paused}
			if dir != "" {
				abs, err := filepath.Abs(dir)
				if err != nil {
					return fmt.Errorf("-d: %w", err)
				}
				body["save_dir"] = abs
			}
			if strings.HasPrefix(args[0], "magnet:") {
				body["magnet"] = args[0]
			} else {
				b, err := os.ReadFile(args[0])
				if err != nil {
					return err
				}
				body["torrent"] = base64.StdEncoding.EncodeToString(b)
			}
			var st daemon.Status
			if err := c.call(cmd.Context(), http.MethodPost, "/torrents", body, &st); err != nil {
				return err
			}
			if c.json {
				return c.printJSON(st)
			}
			fmt.Fprintf(c.out, "added %s %s into %s\n", st.InfoHash, st.Name, st.SaveDir)
			return nil
		},
	}
	cmd.Flags().StringVarP(&dir, "dir", "d", "", "save folder (default: the daemon's download folder)")
	cmd.Flags().BoolVar(&paused, "paused", false, "add it paused")
	return cmd
}

func (c *ctlClient) lsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "ls",
		Short: "List the torrents",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			list := []daemon.Status{}
			if err := c.call(cmd.Context(), http.MethodGet, "/torrents", nil, &list); err != nil {
				return err
			}
			if c.json {
				return c.printJSON(list)
			}
			tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tDONE\tSTATE\tDOWN\tUP\tRATIO\tPEERS\tNAME")
			for _, s := range list {
				fmt.Fprintf(tw, "%s\t%.1f%%\t%s\t%s\t%s\t%.2f\t%d\t%s\n", s.InfoHash[:8], 100*s.Progress, s.State,
					ctlRate(s.DownRate), ctlRate(s.UpRate), s.Ratio, s.Peers, s.Name)
			}
			return tw.Flush()
		},
	}
}

func ctlRate(r float64) string {
	if r <= 0 {
		return "-"
	}
	return humanBytes(int64(r)) + "/s"
}

func (c *ctlClient) infoCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "info TORRENT",
		Short: "Show one torrent",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ih, err := c.resolve(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			var st daemon.Status
			if err := c.call(cmd.Context(), http.MethodGet, "/torrents/"+ih, nil, &st); err != nil {
				return err
			}
			if c.json {
				return c.printJSON(st)
			}
			tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
			for _, row := range [][2]string{
				{"Name", st.Name}, {"Info-hash", st.InfoHash}, {"State", string(st.State) + errSuffix(st.Error)},
				{"Progress", fmt.Sprintf("%.1f%% (%d of %d pieces)", 100*st.Progress, st.Have, st.NumPieces)},
				{"Size", humanBytes(st.Size)}, {"Save folder", st.SaveDir},
				{"Downloaded", humanBytes(st.Downloaded)}, {"Uploaded", humanBytes(st.Uploaded)},
				{"Ratio", fmt.Sprintf("%.2f", st.Ratio)}, {"Rates", "down " + ctlRate(st.DownRate) + ", up " + ctlRate(st.UpRate)},
				{"Peers", fmt.Sprintf("%d (%d seeds)", st.Peers, st.Seeds)}, {"Magnet", st.Magnet},
			} {
				fmt.Fprintf(tw, "%s:\t%s\n", row[0], row[1])
			}
			return tw.Flush()
		},
	}
}

func errSuffix(e string) string {
	if e == "" {
		return ""
	}
	return ": " + e
}

func (c *ctlClient) rmCmd() *cobra.Command {
	var del bool
	cmd := &cobra.Command{
		Use:   "rm TORRENT [--delete-data]",
		Short: "Remove a torrent (its data stays unless --delete-data)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ih, err := c.resolve(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			q := url.Values{}
			if del {
				q.Set("delete_data", "true")
			}
			if err := c.call(cmd.Context(), http.MethodDelete, "/torrents/"+ih+"?"+q.Encode(), nil, nil); err != nil {
				return err
			}
			if !c.json {
				fmt.Fprintf(c.out, "removed %s\n", ih)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&del, "delete-data", false, "also delete the torrent's files")
	return cmd
}

// simpleCmd is pause, resume or recheck.
func (c *ctlClient) simpleCmd(what string) *cobra.Command {
	return &cobra.Command{
		Use:   what + " TORRENT",
		Short: strings.ToUpper(what[:1]) + what[1:] + " a torrent",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ih, err := c.resolve(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			var st daemon.Status
			if err := c.call(cmd.Context(), http.MethodPost, "/torrents/"+ih+"/"+what, nil, &st); err != nil {
				return err
			}
			if c.json {
				return c.printJSON(st)
			}
			fmt.Fprintf(c.out, "%s %s: %s\n", st.InfoHash[:8], st.Name, st.State)
			return nil
		},
	}
}

func (c *ctlClient) peersCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "peers TORRENT",
		Short: "Show a torrent's peer ledger: every known peer, connected or not, and why",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ih, err := c.resolve(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			peers := []daemon.Peer{}
			if err := c.call(cmd.Context(), http.MethodGet, "/torrents/"+ih+"/peers", nil, &peers); err != nil {
				return err
			}
			if c.json {
				return c.printJSON(peers)
			}
			tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ADDRESS\tCLIENT\tSOURCE\tSTATE\tHAS\tDOWN\tUP\tFLAGS\tREASON")
			for _, p := range peers {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.0f%%\t%s\t%s\t%s\t%s\n", p.Addr, orDash(p.Client), p.Source, p.State,
					100*p.Progress, ctlRate(p.DownRate), ctlRate(p.UpRate), peerFlags(p), p.Reason)
			}
			return tw.Flush()
		},
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// peerFlags is the uTorrent-style summary: D/d we download (unchoked / choked but interested),
// U/u we upload, S snubbed, I incoming.
func peerFlags(p daemon.Peer) string {
	if p.State != "connected" {
		return "-"
	}
	var b strings.Builder
	switch {
	case p.AmInterested && !p.PeerChoking:
		b.WriteByte('D')
	case p.AmInterested:
		b.WriteByte('d')
	}
	switch {
	case p.PeerInterested && !p.AmChoking:
		b.WriteByte('U')
	case p.PeerInterested:
		b.WriteByte('u')
	}
	if p.Snubbed {
		b.WriteByte('S')
	}
	if !p.Outgoing {
		b.WriteByte('I')
	}
	return orDash(b.String())
}
