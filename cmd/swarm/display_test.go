package main

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rivo/uniseg"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer"
)

func TestTrackerState(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		tracker peer.TrackerStats
		want    string
	}{
		{"no tracker or not announced yet", peer.TrackerStats{}, ""},
		{"ok", peer.TrackerStats{LastAnnounce: now.Add(-time.Minute), NextAnnounce: now.Add(time.Minute), Seeders: 3, Leechers: 5},
			"ok, 3 seeders"},
		{"one failure", peer.TrackerStats{LastAnnounce: now, NextAnnounce: now.Add(30 * time.Second), Failures: 1, LastError: "refused"},
			"error (1 failure, retry in 30s)"},
		{"failures, retry rounded", peer.TrackerStats{LastAnnounce: now, NextAnnounce: now.Add(40*time.Second + 300*time.Millisecond), Failures: 3, LastError: "refused"},
			"error (3 failures, retry in 40s)"},
		{"retry overdue", peer.TrackerStats{LastAnnounce: now.Add(-time.Minute), NextAnnounce: now.Add(-time.Second), Failures: 2, LastError: "refused"},
			"error (2 failures, retry in 0s)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, trackerState(tc.tracker, now))
		})
	}
}

// fullStatus has every field, and a long name.
var fullStatus = statusFields{
	Name: "ubuntu-24.04.1-desktop-amd64.iso", Done: 312 << 20, Total: 4700 << 20,
	DownRate: 2.5 * (1 << 20), UpRate: 120 << 10, RatesKnown: true,
	Connected: 12, Known: 40, Seeds: 5, Ratio: 0.03,
	Tracker: "error (3 failures, retry in 40s)",
	Clients: []clientCount{{"libtorrent/2.0.8", 7}, {"Transmission 3.00", 3}, {"aria2/1.36.0", 2}},
}

// TestStatusLineFits: the line never exceeds the width it is given, and shows its fields in
// their order of priority: the fields shown are always the first ones of the full list
// (regression: at 80 columns the line was 89 and wrapped).
func TestStatusLineFits(t *testing.T) {
	all := fullStatus.items()
	var order []string // the fields' texts, "[" for the bar
	for _, it := range all {
		switch {
		case it.bar:
			order = append(order, "[")
		case len(it.shorter) > 0: // its shortest form starts every form
			order = append(order, it.shorter[len(it.shorter)-1])
		default:
			order = append(order, it.text)
		}
	}
	for _, width := range []int{1, 10, 20, 40, 60, 79, 80, 120, 200, 240} {
		t.Run(strconv.Itoa(width), func(t *testing.T) {
			line := statusLine(width, fullStatus)
			assert.LessOrEqual(t, uniseg.StringWidth(line), width, "%q", line)
			if width >= 40 {
				assert.Equal(t, width, uniseg.StringWidth(line), "the bar or the name takes the room left: %q", line)
			}
			// Every field after the name appears whole, in order, and only after all the
			// fields before it.
			shown := 0
			rest := line
			for i, want := range order[1:] {
				at := strings.Index(rest, want)
				if at < 0 {
					for _, later := range order[i+2:] {
						assert.NotContains(t, rest, later, "a lower-priority field is shown without %q: %q", want, line)
					}
					break
				}
				shown++
				rest = rest[at+len(want):]
			}
			t.Logf("%3d: %d of %d fields: %s", width, shown, len(order)-1, line)
			switch width {
			case 40:
				assert.Contains(t, line, "312MiB/4.6GiB")
				assert.Contains(t, line, "6.6%")
			case 80:
				assert.Contains(t, line, "↓2.5MiB/s ↑120KiB/s", "rates fit in 80 columns")
				assert.Contains(t, line, "peers 12/40")
				assert.NotContains(t, line, "clients", "client names only when there is room")
			case 200:
				assert.Equal(t, len(order)-1, shown, "everything fits in 200 columns")
				assert.Contains(t, line, fullStatus.Name, "and the whole name")
				assert.Contains(t, line, "eta 29m", "one ETA, from the engine's rate")
				assert.True(t, strings.HasSuffix(line, " tracker error (3 failures, retry in 40s) clients libtorrent/2.0.8 ×7"),
					"as many clients as fit, most common first: %q", line)
			case 240:
				assert.True(t, strings.HasSuffix(line, " clients libtorrent/2.0.8 ×7, Transmission 3.00 ×3, aria2/1.36.0 ×2"), line)
			}
		})
	}
}

// TestTopClients: the status line's clients are the most common names among the connected
// peers (v, else the peer ID's guess), cleaned of what a terminal would act on.
func TestTopClients(t *testing.T) {
	peers := func(names ...string) []peer.PeerStats {
		var out []peer.PeerStats
		for _, n := range names {
			out = append(out, peer.PeerStats{Client: n})
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		peers []peer.PeerStats
		want  []clientCount
	}{
		{"no peers", nil, []clientCount{}},
		{"unknown clients are not counted", peers("", ""), []clientCount{}},
		{"most common first, ties by name", peers("b", "a", "c", "c", "lt 0D80", "b"),
			[]clientCount{{"b", 2}, {"c", 2}, {"a", 1}}},
		{"escape sequences and control characters go", peers("evil\x1b[2J\x1b]0;x\x07\r\n1.0", "evil [2J ]0;x 1.0"),
			[]clientCount{{"evil [2J ]0;x 1.0", 2}}},
		{"long names are shortened", peers(strings.Repeat("x", 300)),
			[]clientCount{{strings.Repeat("x", 12) + "…" + strings.Repeat("x", 11), 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := topClients(tc.peers, 3)
			assert.Equal(t, tc.want, got)
			for _, c := range got {
				assert.LessOrEqual(t, uniseg.StringWidth(c.Name), maxClientCols)
			}
		})
	}
	f := newStatusFields("x", 10, peer.Stats{Left: 5, Peers: peers("aria2/1.36.0", "libtorrent/2.0.8", "aria2/1.36.0")}, true, time.Now())
	assert.Equal(t, []clientCount{{"aria2/1.36.0", 2}, {"libtorrent/2.0.8", 1}}, f.Clients)
	assert.Contains(t, plainStatus(f), "clients aria2/1.36.0 ×2, libtorrent/2.0.8 ×1", "logs and pipes show them too")
}

func TestStatusLineShortensNameInTheMiddle(t *testing.T) {
	line := statusLine(40, fullStatus)
	name, _, _ := strings.Cut(line, " ")
	assert.True(t, strings.HasPrefix(name, "ubuntu"), name)
	assert.True(t, strings.HasSuffix(name, ".iso"), name)
	assert.Contains(t, name, "…")
	wide := fullStatus
	wide.Name = "日本語のとても長いファイル名です.mkv"
	for _, w := range []int{20, 40, 80} {
		assert.LessOrEqual(t, uniseg.StringWidth(statusLine(w, wide)), w, "double-width names count double")
	}
}

func TestStatusLineStates(t *testing.T) {
	seeding := fullStatus
	seeding.Done, seeding.Seeding, seeding.Tracker = seeding.Total, true, ""
	line := statusLine(200, seeding)
	assert.Contains(t, line, "100.0%")
	assert.Contains(t, line, "seeding")
	assert.NotContains(t, line, "eta")
	assert.Contains(t, line, "["+strings.Repeat("#", 10), "a full bar")

	almost := fullStatus
	almost.Done = almost.Total - 1
	assert.Contains(t, statusLine(200, almost), "99.9%", "never 100% before the last byte")

	early := fullStatus
	early.RatesKnown = false
	line = statusLine(200, early)
	assert.NotContains(t, line, "↓", "no rates before they are measured")
	assert.NotContains(t, line, "eta")
}

func TestETA(t *testing.T) {
	for _, tc := range []struct {
		left int64
		rate float64
		want string
	}{
		{0, 100, ""},
		{100, 0, ""},
		{100, 0.5, ""},
		{1 << 20, 1 << 19, "2s"},
		{90 << 20, 1 << 20, "1m30s"},
		{4 << 30, 1 << 20, "1h8m0s"},
		{1 << 50, 1, ""}, // beyond 99 days: unknown
	} {
		assert.Equal(t, tc.want, eta(tc.left, tc.rate), "%d at %v", tc.left, tc.rate)
	}
}

// TestPlainStatusPaced: not on a terminal, the status is a plain line every few seconds,
// the first one once the rates are measured (regression: the first line showed zero rates).
func TestPlainStatusPaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		mi := &metainfo.MetaInfo{Info: metainfo.Info{Name: "x.bin", Length: 1000, PieceLength: 1 << 14}}
		d := newSessionDisplay(&app{stderr: &out}, mi, false)
		st := peer.Stats{Left: 600, DownRate: 100, Peers: make([]peer.PeerStats, 1), Known: 3}
		for range 19 { // 4.75 s of 250 ms polls
			d.update(st)
			time.Sleep(250 * time.Millisecond)
		}
		assert.Empty(t, out.String())
		time.Sleep(250 * time.Millisecond)
		d.update(st)
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		require.Len(t, lines, 1)
		assert.Equal(t, "x.bin 400B/1000B 40.0% ↓100B/s ↑0B/s peers 1/3 seeds 0 ratio 0.00 eta 6s", lines[0])
		for range 20 {
			time.Sleep(250 * time.Millisecond)
			d.update(st)
		}
		assert.Len(t, strings.Split(strings.TrimSpace(out.String()), "\n"), 2)
	})
}
