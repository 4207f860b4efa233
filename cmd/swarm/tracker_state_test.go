package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGetTrackerDownInStats: when the tracker refuses connections, the --stats JSON says so in
// its "tracker" object (failures, last error), so scripts can tell a dead tracker from an
// empty swarm.
func TestGetTrackerDownInStats(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // a port sure to refuse once closed
	require.NoError(t, err)
	dead := "http://" + ln.Addr().String() + "/announce"
	require.NoError(t, ln.Close())
	tpath, _ := writeTorrent(t, t.TempDir(), "orphan.bin", 100<<10, dead)
	statsPath := filepath.Join(t.TempDir(), "stats.json")
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	var out bytes.Buffer
	err = run(ctx, []string{"get", tpath, "-d", t.TempDir(), "--port", "0", "--bind", "127.0.0.1",
		"--stats", statsPath, "-q"}, &out, &out)
	require.Error(t, err)
	assert.Equal(t, exitIncomplete, exitCode(err))

	b, err := os.ReadFile(statsPath)
	require.NoError(t, err)
	var raw struct {
		Torrents []struct {
			Tracker map[string]any `json:"tracker"`
		} `json:"torrents"`
	}
	require.NoError(t, json.Unmarshal(b, &raw), string(b))
	require.Len(t, raw.Torrents, 1)
	tr := raw.Torrents[0].Tracker
	require.NotNil(t, tr, "a torrent with a tracker gets a tracker object: %s", b)
	assert.GreaterOrEqual(t, tr["failures"], float64(1), string(b))
	assert.Contains(t, tr["last_error"], "refused", string(b))
	assert.Contains(t, tr, "next_announce")
}
