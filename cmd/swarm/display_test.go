package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/swarm-bt/swarm/peer"
)

func TestStatusLineTracker(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	base := peer.Stats{Left: 1 << 20, DownRate: 1 << 19, Peers: make([]peer.PeerStats, 2)}
	for _, tc := range []struct {
		name    string
		tracker peer.TrackerStats
		want    string
	}{
		{"no tracker or not announced yet", peer.TrackerStats{}, "down 512 KiB/s up 0 B/s peers 2 eta 2s"},
		{"ok", peer.TrackerStats{LastAnnounce: now.Add(-time.Minute), NextAnnounce: now.Add(time.Minute), Seeders: 3, Leechers: 5},
			"down 512 KiB/s up 0 B/s peers 2 eta 2s tracker: ok, 3 seeders"},
		{"one failure", peer.TrackerStats{LastAnnounce: now, NextAnnounce: now.Add(30 * time.Second), Failures: 1, LastError: "refused"},
			"down 512 KiB/s up 0 B/s peers 2 eta 2s tracker: error (1 failure, retry in 30s)"},
		{"failures, retry rounded", peer.TrackerStats{LastAnnounce: now, NextAnnounce: now.Add(40*time.Second + 300*time.Millisecond), Failures: 3, LastError: "refused"},
			"down 512 KiB/s up 0 B/s peers 2 eta 2s tracker: error (3 failures, retry in 40s)"},
		{"retry overdue", peer.TrackerStats{LastAnnounce: now.Add(-time.Minute), NextAnnounce: now.Add(-time.Second), Failures: 2, LastError: "refused"},
			"down 512 KiB/s up 0 B/s peers 2 eta 2s tracker: error (2 failures, retry in 0s)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := base
			st.Tracker = tc.tracker
			assert.Equal(t, tc.want, statusLine(st, now))
		})
	}
}

func TestStatusLineSeeding(t *testing.T) {
	now := time.Now()
	st := peer.Stats{Seeding: true, Tracker: peer.TrackerStats{LastAnnounce: now, Seeders: 1}}
	assert.Equal(t, "down 0 B/s up 0 B/s peers 0 eta seeding tracker: ok, 1 seeder", statusLine(st, now))
}
