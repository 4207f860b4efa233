package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer"
)

// isTerminal reports whether w is an interactive terminal, where a live bar makes sense;
// elsewhere (pipes, CI logs) we print a plain line every few seconds instead.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newBar returns a byte-counting progress bar on stderr, or nil when there is no terminal or
// the user asked for quiet.
func (a *app) newBar(total int64, desc string, quiet bool) *progressbar.ProgressBar {
	if quiet || !isTerminal(a.stderr) {
		return nil
	}
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(a.stderr),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowBytes(true),
		progressbar.OptionUseIECUnits(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionShowDescriptionAtLineEnd(),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetWidth(30),
	)
}

// checkBar shows the resume check on long checks.
type checkBar struct {
	bar *progressbar.ProgressBar
}

func newCheckBar(a *app, pieces int, quiet bool) *checkBar {
	b := a.newBar(int64(pieces), "checking", quiet)
	if b != nil {
		// Pieces, not bytes.
		progressbar.OptionShowBytes(false)(b)
		progressbar.OptionShowCount()(b)
	}
	return &checkBar{bar: b}
}

func (c *checkBar) set(checked int) {
	if c.bar != nil {
		_ = c.bar.Set(checked)
	}
}

func (c *checkBar) done() {
	if c.bar != nil {
		_ = c.bar.Clear()
	}
}

// sessionDisplay shows one torrent's live status line (see statusLine): redrawn in place on
// a terminal, at its width; elsewhere (logs, pipes) a plain line every plainEvery.
type sessionDisplay struct {
	a         *app
	mi        *metainfo.MetaInfo
	quiet     bool
	live      bool // stderr is a terminal
	drawn     bool // a live line is on screen
	start     time.Time
	lastPlain time.Time
}

// plainEvery paces the plain status lines; the first comes after one such period, when the
// rates have been measured.
const plainEvery = 5 * time.Second

// ratesAfter is how long the engine measures rates before they are worth showing.
const ratesAfter = 2 * time.Second

func newSessionDisplay(a *app, mi *metainfo.MetaInfo, quiet bool) *sessionDisplay {
	now := time.Now()
	return &sessionDisplay{a: a, mi: mi, quiet: quiet, live: isTerminal(a.stderr), start: now, lastPlain: now}
}

func (d *sessionDisplay) update(st peer.Stats) {
	if d.quiet {
		return
	}
	now := time.Now()
	f := newStatusFields(d.mi.Info.Name, d.mi.Info.TotalLength(), st, now.Sub(d.start) >= ratesAfter, now)
	if d.live {
		// One column spare: some terminals wrap a line that fills the last column.
		fmt.Fprintf(d.a.stderr, "\r%s\x1b[K", statusLine(terminalWidth(d.a.stderr)-1, f))
		d.drawn = true
		return
	}
	if now.Sub(d.lastPlain) < plainEvery {
		return
	}
	d.lastPlain = now
	fmt.Fprintln(d.a.stderr, plainStatus(f))
}

// clear removes the live line.
func (d *sessionDisplay) clear() {
	if d.drawn {
		fmt.Fprint(d.a.stderr, "\r\x1b[K")
		d.drawn = false
	}
}

func (d *sessionDisplay) finish(st peer.Stats) {
	d.clear()
	finishLine(d.a, d.mi, st)
}

// terminalWidth is w's width in columns, 80 when it cannot be told.
func terminalWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
			return cols
		}
	}
	return 80
}

// finishLine is a torrent's summary at exit.
func finishLine(a *app, mi *metainfo.MetaInfo, st peer.Stats) {
	done := mi.Info.TotalLength() - st.Left
	state := "incomplete"
	if st.Left == 0 {
		state = "complete"
	}
	fmt.Fprintf(a.stdout, "%s: %s, %d/%d pieces (%.1f%%), downloaded %s, uploaded %s\n",
		mi.Info.Name, state, st.Have, st.NumPieces, percent(done, mi.Info.TotalLength()),
		humanBytes(st.Downloaded), humanBytes(st.Uploaded))
}

// multiDisplay sums up many torrents in one plain line every few seconds.
type multiDisplay struct {
	a     *app
	quiet bool
	last  time.Time
}

func (d *multiDisplay) update(ts []*session) {
	if d.quiet || time.Since(d.last) < 5*time.Second {
		return
	}
	d.last = time.Now()
	var running, complete, peers int
	var down, up float64
	for _, t := range ts {
		if t.stopped {
			complete += b2n(t.final.Left == 0)
			continue
		}
		st := t.sw.Stats()
		running++
		complete += b2n(st.Left == 0)
		peers += len(st.Peers)
		down, up = down+st.DownRate, up+st.UpRate
	}
	fmt.Fprintf(d.a.stderr, "%d torrents, %d running, %d complete: down %s/s up %s/s peers %d\n",
		len(ts), running, complete, humanBytes(int64(down)), humanBytes(int64(up)), peers)
}

func b2n(v bool) int {
	if v {
		return 1
	}
	return 0
}

// trackerState says briefly how the announces go: "" before the first one (or without a
// tracker), "ok, 3 seeders" or "error (3 failures, retry in 40s)".
func trackerState(tr peer.TrackerStats, now time.Time) string {
	if tr.LastAnnounce.IsZero() {
		return ""
	}
	if tr.Failures == 0 {
		return "ok, " + plural(tr.Seeders, "seeder")
	}
	retry := max(tr.NextAnnounce.Sub(now), 0).Round(time.Second)
	return fmt.Sprintf("error (%s, retry in %s)", plural(tr.Failures, "failure"), retry)
}

// plural counts things in English: "1 failure", "3 failures".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

func percent(done, total int64) float64 {
	if total == 0 {
		return 100
	}
	return 100 * float64(done) / float64(total)
}

// sessionStats is the --stats JSON summary.
type sessionStats struct {
	Name       string        `json:"name"`
	InfoHash   string        `json:"info_hash"`
	Size       int64         `json:"size"`
	Complete   bool          `json:"complete"`
	Downloaded int64         `json:"downloaded"`
	Uploaded   int64         `json:"uploaded"`
	Pieces     int           `json:"pieces"`
	Have       int           `json:"have"`
	Seconds    float64       `json:"seconds"`
	Tracker    *trackerStats `json:"tracker,omitempty"` // nil when the torrent has no tracker
	Peers      []peerSummary `json:"peers"`
}

// trackerStats is the tracker's state in the --stats JSON.
type trackerStats struct {
	LastAnnounce time.Time `json:"last_announce,omitzero"`
	NextAnnounce time.Time `json:"next_announce,omitzero"`
	LastError    string    `json:"last_error,omitempty"`
	Failures     int       `json:"failures"`
	Seeders      int       `json:"seeders"`
	Leechers     int       `json:"leechers"`
	Peers        int       `json:"peers"`
}

func newTrackerStats(mi *metainfo.MetaInfo, tr peer.TrackerStats) *trackerStats {
	if len(mi.Trackers()) == 0 {
		return nil
	}
	return &trackerStats{
		LastAnnounce: tr.LastAnnounce, NextAnnounce: tr.NextAnnounce, LastError: tr.LastError,
		Failures: tr.Failures, Seeders: tr.Seeders, Leechers: tr.Leechers, Peers: tr.Peers,
	}
}

// writeStats writes the --stats JSON summary of every torrent (nothing when path is "").
func writeStats(path string, ts []*session) error {
	if path == "" {
		return nil
	}
	out := struct {
		Torrents []sessionStats `json:"torrents"`
	}{Torrents: []sessionStats{}}
	for _, t := range ts {
		st := t.final
		out.Torrents = append(out.Torrents, sessionStats{
			Name: t.mi.Info.Name, InfoHash: t.mi.InfoHash.String(), Size: t.mi.Info.TotalLength(),
			Complete: st.Left == 0, Downloaded: st.Downloaded, Uploaded: st.Uploaded,
			Pieces: st.NumPieces, Have: st.Have, Seconds: time.Since(t.start).Seconds(),
			Tracker: newTrackerStats(t.mi, st.Tracker), Peers: t.peers.list(),
		})
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return fmt.Errorf("encode stats: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write stats: %w", err)
	}
	return nil
}
