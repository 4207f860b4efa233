package main

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/rivo/uniseg"

	"github.com/swarm-bt/swarm/peer"
)

// The live status line of get and seed: a pure function of the terminal width and the
// values shown, so that it is tested at any width and can never wrap.

// statusFields are the values of one torrent's status line.
type statusFields struct {
	Name        string
	Done, Total int64
	// DownRate and UpRate are the engine's rates (bytes/s), the one source of rates and of
	// the ETA. RatesKnown is false until they have been measured for a moment: until then
	// neither they nor the ETA are shown (a first line of zero rates says nothing).
	DownRate, UpRate float64
	RatesKnown       bool
	Connected, Known int     // peers connected, and addresses known
	Seeds            int     // connected peers that have every piece
	Ratio            float64 // uploaded over the torrent's size
	Seeding          bool
	Tracker          string // trackerState: "" (none yet), "ok, 3 seeders", "error (...)"
	// Clients are the most common client names among the connected peers, most common
	// first (see topClients).
	Clients []clientCount
}

// clientCount is how many connected peers run one client.
type clientCount struct {
	Name string
	N    int
}

const (
	maxClientsShown = 3  // client names on the status line
	maxClientCols   = 24 // columns of one client name there; v is the peer's to choose
)

// topClients counts the peers by client name (from the extension handshake's v, else the
// peer ID) and keeps the n most common, ties by name. Names are cleaned of anything that is
// not printable, since a peer chooses them and they go to a terminal, and shortened.
func topClients(peers []peer.PeerStats, n int) []clientCount {
	counts := map[string]int{}
	for _, p := range peers {
		if name := printableName(p.Client, maxClientCols); name != "" {
			counts[name]++
		}
	}
	out := make([]clientCount, 0, len(counts))
	for name, c := range counts {
		out = append(out, clientCount{name, c})
	}
	slices.SortFunc(out, func(a, b clientCount) int {
		if a.N != b.N {
			return cmp.Compare(b.N, a.N)
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out[:min(n, len(out))]
}

// printableName keeps the printable runes of s (no control or escape sequences), spaces
// collapsed, shortened to width columns.
func printableName(s string, width int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, s)
	return shorten(strings.Join(strings.Fields(s), " "), width)
}

// newStatusFields takes the values from the engine's stats.
func newStatusFields(name string, total int64, st peer.Stats, ratesKnown bool, now time.Time) statusFields {
	f := statusFields{
		Name: name, Done: total - st.Left, Total: total,
		DownRate: st.DownRate, UpRate: st.UpRate, RatesKnown: ratesKnown,
		Connected: len(st.Peers), Known: max(st.Known, len(st.Peers)),
		Seeding: st.Left == 0, Tracker: trackerState(st.Tracker, now),
	}
	for _, p := range st.Peers {
		if p.Seed {
			f.Seeds++
		}
	}
	f.Clients = topClients(st.Peers, maxClientsShown)
	if total > 0 {
		f.Ratio = float64(st.Uploaded) / float64(total)
	}
	return f
}

// eta is the time left at the current download rate, "" when it cannot be told.
func eta(left int64, rate float64) string {
	if left <= 0 || rate < 1 {
		return ""
	}
	secs := float64(left) / rate
	if secs > (99 * 24 * time.Hour).Seconds() {
		return ""
	}
	d := time.Duration(secs * float64(time.Second))
	if d >= time.Hour {
		d = d.Round(time.Minute)
	} else {
		d = d.Round(time.Second)
	}
	return d.String()
}

// compactBytes is humanBytes without its space, for a narrow line: "1.5MiB".
func compactBytes(n int64) string { return strings.ReplaceAll(humanBytes(n), " ", "") }

// statusItem is one field of the line. The bar has no text: it is drawn at the width it is
// given, at least minBar.
type statusItem struct {
	text string
	bar  bool
	// shorter are shorter forms of text, longest first, for when text does not fit; the
	// fields after one shown shortened are dropped.
	shorter []string
}

const (
	minBar     = 7  // "[#....]"
	minNameCol = 12 // a name is shortened to no less than this while other fields need room
)

// items are the fields, in the order they appear and in their order of priority: when the
// line is too narrow, fields are dropped from the end. Empty fields are left out.
func (f statusFields) items() []statusItem {
	pct := 100.0
	if f.Total > 0 {
		pct = 100 * float64(f.Done) / float64(f.Total)
	}
	pctText := fmt.Sprintf("%.1f%%", math.Floor(pct*10)/10) // never 100.0% before the end
	out := []statusItem{
		{text: f.Name},
		{text: compactBytes(f.Done) + "/" + compactBytes(f.Total)},
		{text: pctText},
		{bar: true},
	}
	add := func(s string) {
		if s != "" {
			out = append(out, statusItem{text: s})
		}
	}
	if f.RatesKnown {
		add("↓" + compactBytes(int64(f.DownRate)) + "/s ↑" + compactBytes(int64(f.UpRate)) + "/s")
	}
	add(fmt.Sprintf("peers %d/%d", f.Connected, f.Known))
	add(fmt.Sprintf("seeds %d", f.Seeds))
	add(fmt.Sprintf("ratio %.2f", f.Ratio))
	switch {
	case f.Seeding:
		add("seeding")
	case f.RatesKnown && eta(f.Total-f.Done, f.DownRate) != "":
		add("eta " + eta(f.Total-f.Done, f.DownRate))
	}
	if f.Tracker != "" {
		add("tracker " + f.Tracker)
	}
	if len(f.Clients) > 0 { // last: the least needed, shown only when there is room
		names := make([]string, len(f.Clients))
		for i, c := range f.Clients {
			names[i] = fmt.Sprintf("%s ×%d", c.Name, c.N)
		}
		it := statusItem{text: "clients " + strings.Join(names, ", ")}
		for k := len(names) - 1; k > 0; k-- {
			it.shorter = append(it.shorter, "clients "+strings.Join(names[:k], ", "))
		}
		out = append(out, it)
	}
	return out
}

// statusLine renders f in at most width terminal columns: the name (shortened in the
// middle when space is short), bytes done and total, percent, a bar that takes the width
// left over, rates, peers, seeds, ratio, ETA, the tracker's state and the most common
// clients. Fields that do not fit
// are dropped, lowest priority first.
func statusLine(width int, f statusFields) string {
	if width <= 0 {
		return ""
	}
	items := f.items()
	nameFull := uniseg.StringWidth(items[0].text)
	nameCol := min(nameFull, max(minNameCol, width/4), width)
	used, n := nameCol, 1
	for ; n < len(items); n++ {
		w := minBar
		if !items[n].bar {
			w = uniseg.StringWidth(items[n].text)
		}
		if used+1+w > width {
			if alt, ok := fitting(items[n].shorter, width-used-1); ok {
				items[n].text = alt
				used += 1 + uniseg.StringWidth(alt)
				n++
			}
			break
		}
		used += 1 + w
	}
	items = items[:n]
	spare := width - used
	grow := min(spare, nameFull-nameCol) // the name first, then the bar
	nameCol += grow
	spare -= grow
	parts := make([]string, len(items))
	parts[0] = shorten(items[0].text, nameCol)
	for i := 1; i < len(items); i++ {
		if items[i].bar {
			parts[i] = drawBar(minBar+spare, f.Done, f.Total)
			continue
		}
		parts[i] = items[i].text
	}
	return strings.Join(parts, " ")
}

// fitting returns the first of texts that fits in width columns.
func fitting(texts []string, width int) (string, bool) {
	for _, t := range texts {
		if uniseg.StringWidth(t) <= width {
			return t, true
		}
	}
	return "", false
}

// plainStatus is the line written to logs and pipes: every field, no bar.
func plainStatus(f statusFields) string {
	var parts []string
	for _, it := range f.items() {
		if !it.bar {
			parts = append(parts, it.text)
		}
	}
	return strings.Join(parts, " ")
}

// drawBar draws a bar of width columns, brackets included, filled in proportion to done.
func drawBar(width int, done, total int64) string {
	inner := width - 2
	fill := inner
	if total > 0 {
		fill = int(float64(inner) * float64(done) / float64(total))
	}
	return "[" + strings.Repeat("#", fill) + strings.Repeat(".", inner-fill) + "]"
}

// shorten fits s in width columns, cutting out its middle ("ubuntu-2…amd64.iso"), which
// keeps the start and the extension.
func shorten(s string, width int) string {
	if uniseg.StringWidth(s) <= width {
		return s
	}
	if width <= 1 {
		return strings.Repeat("…", width)
	}
	head := (width - 1) - (width-1)/2
	tail := (width - 1) / 2
	return takeCols(s, head) + "…" + lastCols(s, tail)
}

// takeCols returns the longest prefix of s, in whole grapheme clusters, of at most n columns.
func takeCols(s string, n int) string {
	var b strings.Builder
	state := -1
	for len(s) > 0 {
		var cluster string
		var w int
		cluster, s, w, state = uniseg.FirstGraphemeClusterInString(s, state)
		if n-w < 0 {
			break
		}
		n -= w
		b.WriteString(cluster)
	}
	return b.String()
}

// lastCols returns the longest suffix of s, in whole grapheme clusters, of at most n columns.
func lastCols(s string, n int) string {
	var clusters []string
	var widths []int
	state := -1
	for len(s) > 0 {
		var cluster string
		var w int
		cluster, s, w, state = uniseg.FirstGraphemeClusterInString(s, state)
		clusters, widths = append(clusters, cluster), append(widths, w)
	}
	i := len(clusters)
	for i > 0 && n-widths[i-1] >= 0 {
		n -= widths[i-1]
		i--
	}
	return strings.Join(clusters[i:], "")
}
