package interop

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/tracker/redisstore/redistest"
)

// TestRedisSharedTrackers runs two `swarm tracker` processes, on 127.0.0.2 and 127.0.0.3,
// over one Redis (a server, then a three-node cluster): a libtorrent seeder announces to the
// first only, a swarm leecher to the second only, so they can meet only through the shared
// store. The download completes, and scrapes of either tracker agree (issue 15).
func TestRedisSharedTrackers(t *testing.T) {
	interopOnly(t)
	for _, mode := range []string{"server", "cluster"} {
		t.Run(mode, func(t *testing.T) {
			start(t)
			var url string
			if mode == "server" {
				url = redistest.Start(t).URL()
			} else {
				url = redistest.StartCluster(t).URL()
			}
			sharedRedisTransfer(t, url)
		})
	}
}

func sharedRedisTransfer(t *testing.T, storeURL string) {
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	t.Cleanup(cancel)
	var trs []*tracker
	for i, ip := range []string{"127.0.0.2", "127.0.0.3"} {
		tr := &tracker{kind: kindSwarmTracker, addr: fmt.Sprintf("%s:%d", ip, freePort(t, ip))}
		needSwarm(t)
		tr.proc = startProc(t, ctx, fmt.Sprintf("swarm-tracker-%d", i), env.swarm, "--log-level=debug", "tracker",
			"--listen", tr.addr, "--interval", announceInterval, "--store", storeURL, "--udp", "off")
		waitListening(t, ctx, tr.addr, tr.proc)
		trs = append(trs, tr)
	}
	p := env.payloads[0]
	tfSeed := mktorrent(t, ctx, p, trs[0].URL())
	tfGet := mktorrent(t, ctx, p, trs[1].URL())
	require.Equal(t, tfSeed.InfoHash, tfGet.InfoHash, "the announce URL is outside the info dictionary")

	began := time.Now()
	seedDir, getDir := copyPayload(t, p), t.TempDir()
	seeder := seedLibtorrent(t, ctx, tfSeed, seedDir, newHost(t))
	// The seeder announced to the first tracker; the second must list it.
	trs[1].waitSwarm(t, ctx, tfSeed.InfoHash, 1, 0, append(seeder.procs, trs[0].proc, trs[1].proc)...)
	t.Logf("seeder seen through the second tracker after %v", time.Since(began).Round(time.Millisecond))
	leecher := leechSwarm(t, ctx, tfGet, getDir, newHost(t))
	require.NoError(t, waitComplete(ctx, leecher, seeder, &node{procs: []*proc{trs[0].proc, trs[1].proc}}), "download")
	t.Logf("swarm leecher complete after %v", time.Since(began).Round(time.Millisecond))
	verifyDownload(t, tfGet, p.Dir, getDir, false)

	// swarm get announced completed, then stopped: one download, the seeder still there.
	var counts [2]scrapeCounts
	err := poll(ctx, 100*time.Millisecond, func() (bool, error) {
		for i, tr := range trs {
			c, err := tr.scrape(ctx, tfSeed.InfoHash)
			if err != nil {
				return false, err
			}
			counts[i] = c
		}
		return counts[0] == counts[1] && counts[0].Downloaded == 1, nil
	}, trs[0].proc, trs[1].proc)
	require.NoError(t, err, "scrapes: %+v", counts)
	assert.Equal(t, scrapeCounts{Complete: 1, Incomplete: 0, Downloaded: 1}, counts[0])
}
