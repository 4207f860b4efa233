package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

func TestQueueActiveDownloads(t *testing.T) {
	a := newFixture(t, "a.bin", 64<<10, 16<<10, 11)
	b := newFixture(t, "b.bin", 64<<10, 16<<10, 12)
	cfg := testConfig(t, t.TempDir(), a.tracker) // nobody seeds: both stay incomplete
	one := Settings{MaxActiveDownloads: 1}
	cfg.Settings = &one
	r := startDaemon(t, cfg)
	ia, ib := a.mi.InfoHash.String(), b.mi.InfoHash.String()
	_, err := r.d.Add(AddRequest{Torrent: a.raw})
	require.NoError(t, err)
	_, err = r.d.Add(AddRequest{Torrent: b.raw})
	require.NoError(t, err)
	waitFor(t, "a downloading, b queued", func() bool {
		return stateOf(r.d, ia) == StateDownloading && stateOf(r.d, ib) == StateQueued
	})
	require.NoError(t, r.d.Pause(ia))
	waitFor(t, "b takes the slot", func() bool {
		return stateOf(r.d, ia) == StatePaused && stateOf(r.d, ib) == StateDownloading
	})
	require.NoError(t, r.d.Resume(ia))
	waitFor(t, "a waits its turn", func() bool { return stateOf(r.d, ia) == StateQueued })
	require.NoError(t, r.d.SetSettings(Settings{MaxActiveDownloads: 0}))
	waitFor(t, "both download", func() bool {
		return stateOf(r.d, ia) == StateDownloading && stateOf(r.d, ib) == StateDownloading
	})
	require.NoError(t, r.d.SetSettings(Settings{MaxActiveDownloads: 1}))
	waitFor(t, "lowering the limit queues the later one", func() bool {
		return stateOf(r.d, ia) == StateDownloading && stateOf(r.d, ib) == StateQueued
	})
}

func TestSeedTimeLimitAndResume(t *testing.T) {
	f := newFixture(t, "s.bin", 128<<10, 16<<10, 13)
	f.seed(t, 0)
	cfg := testConfig(t, t.TempDir(), f.tracker)
	r := startDaemon(t, cfg)
	ih := f.mi.InfoHash.String()
	_, err := r.d.Add(AddRequest{Torrent: f.raw, Limits: Limits{SeedTime: Duration(300 * time.Millisecond)}})
	require.NoError(t, err)
	waitFor(t, "finished by the seed time limit", func() bool { return stateOf(r.d, ih) == StateFinished })
	st, err := r.d.Get(ih)
	require.NoError(t, err)
	assert.Equal(t, 1.0, st.Progress)
	assert.GreaterOrEqual(t, time.Duration(st.SeedTime), 300*time.Millisecond)
	require.NoError(t, r.d.Resume(ih))
	waitFor(t, "seeding again past the limit", func() bool { return stateOf(r.d, ih) == StateSeeding })
	time.Sleep(500 * time.Millisecond) // well past the limit: the override holds
	assert.Equal(t, StateSeeding, stateOf(r.d, ih))
}

func TestSeedLimitReached(t *testing.T) {
	f := newFixture(t, "l.bin", 100<<10, 16<<10, 14)
	size := float64(f.mi.Info.TotalLength())
	cases := []struct {
		name     string
		global   Settings
		own      Limits
		uploaded int64
		seeded   time.Duration
		override bool
		want     bool
	}{
		{"no limits", Settings{}, Limits{}, 1 << 30, time.Hour, false, false},
		{"global ratio reached", Settings{SeedRatio: 1}, Limits{}, int64(size), 0, false, true},
		{"global ratio not yet", Settings{SeedRatio: 1}, Limits{}, int64(size) - 1, 0, false, false},
		{"own ratio wins", Settings{SeedRatio: 1}, Limits{SeedRatio: 2}, int64(size), 0, false, false},
		{"own ratio disabled", Settings{SeedRatio: 1}, Limits{SeedRatio: -1}, 1 << 30, 0, false, false},
		{"global time", Settings{SeedTime: Duration(time.Minute)}, Limits{}, 0, time.Minute, false, true},
		{"own time disabled", Settings{SeedTime: Duration(time.Minute)}, Limits{SeedTime: -1}, 0, time.Hour, false, false},
		{"resumed past the limit", Settings{SeedRatio: 1}, Limits{}, 1 << 30, 0, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := &Daemon{settings: tc.global}
			tr := newTorrent(f.mi.InfoHash, f.mi, record{Uploaded: tc.uploaded, SeedTime: Duration(tc.seeded), Limits: tc.own})
			tr.override = tc.override
			assert.Equal(t, tc.want, d.seedLimitReached(tr))
		})
	}
}

func TestWatchFolder(t *testing.T) {
	f := newFixture(t, "w.bin", 64<<10, 16<<10, 15)
	watch := t.TempDir()
	cfg := testConfig(t, t.TempDir(), f.tracker)
	cfg.Watch = watch
	old := time.Now().Add(-time.Minute) // written a while ago: not still being written
	for name, data := range map[string][]byte{"good.torrent": f.raw, "bad.torrent": []byte("d4:junk"), "notes.txt": []byte("x")} {
		p := filepath.Join(watch, name)
		require.NoError(t, os.WriteFile(p, data, 0o644))
		require.NoError(t, os.Chtimes(p, old, old))
	}
	r := startDaemon(t, cfg)
	waitFor(t, "the watched torrent added", func() bool { return len(r.d.List()) == 1 })
	assert.Equal(t, f.mi.InfoHash.String(), r.d.List()[0].InfoHash)
	waitFor(t, "files renamed", func() bool {
		_, e1 := os.Stat(filepath.Join(watch, "good.torrent.added"))
		_, e2 := os.Stat(filepath.Join(watch, "bad.torrent.invalid"))
		return e1 == nil && e2 == nil
	})
	_, err := os.Stat(filepath.Join(watch, "notes.txt"))
	assert.NoError(t, err, "other files are left alone")
}

func TestSettingsAtRunTime(t *testing.T) {
	f := newFixture(t, "g.bin", 64<<10, 16<<10, 16)
	dir := t.TempDir()
	r := startDaemon(t, testConfig(t, dir, f.tracker))
	require.NoError(t, r.d.SetSettings(Settings{UpRate: 1 << 20, DownRate: 2 << 20}))
	up, down := r.d.sess.RateLimits()
	assert.Equal(t, rate.Limit(1<<20), up)
	assert.Equal(t, rate.Limit(2<<20), down)
	require.Error(t, r.d.SetSettings(Settings{UpRate: -1}))
	_, err := r.d.Add(AddRequest{Torrent: f.raw, Paused: true})
	require.NoError(t, err)
	ih := f.mi.InfoHash.String()
	require.NoError(t, r.d.SetLimits(ih, Limits{UpRate: 1000, DownRate: 0}))
	r.d.mu.Lock()
	tr := r.d.torrents[f.mi.InfoHash]
	assert.Equal(t, rate.Limit(1000), tr.up.Limit())
	assert.Equal(t, rate.Inf, tr.down.Limit())
	r.d.mu.Unlock()
	r.stop(t)

	// The state on disk is whole JSON with the settings and the torrent; no temp file left.
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	require.NoError(t, err)
	assert.Contains(t, string(b), `"up_rate": 1048576`)
	assert.Contains(t, string(b), ih)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.False(t, strings.Contains(e.Name(), ".tmp"), "temp file left: %s", e.Name())
	}
	r2 := startDaemon(t, testConfig(t, dir, f.tracker))
	assert.Equal(t, Settings{UpRate: 1 << 20, DownRate: 2 << 20}, r2.d.Settings())
	st, err := r2.d.Get(ih)
	require.NoError(t, err)
	assert.Equal(t, int64(1000), st.Limits.UpRate)
}
