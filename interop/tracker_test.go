package interop

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/stretchr/testify/require"
)

// trackerKind is one HTTP tracker implementation.
type trackerKind struct {
	name  string
	start func(t *testing.T, ctx context.Context, addr string, infoHashes []string) *proc
	// udp makes torrents announce over BEP 15 to the same address (the harness still
	// scrapes over HTTP to watch the swarm).
	udp bool
}

// tracker is a tracker of some kind with its address reserved. Torrents are made with its URL
// first, then start runs it knowing their info-hashes (opentracker needs them whitelisted).
type tracker struct {
	kind *trackerKind
	addr string
	proc *proc
}

// newTracker reserves a port on 127.0.0.1 for a tracker of the given kind.
func newTracker(t *testing.T, kind *trackerKind) *tracker {
	t.Helper()
	port := freePort(t, "127.0.0.1")
	if kind.udp {
		port = freeTCPAndUDPPort(t, "127.0.0.1")
	}
	return &tracker{kind: kind, addr: fmt.Sprintf("127.0.0.1:%d", port)}
}

// URL is the announce URL.
func (tr *tracker) URL() string {
	if tr.kind.udp {
		return "udp://" + tr.addr + "/announce"
	}
	return announceURL(tr.addr)
}

// start runs the tracker and waits until it answers HTTP.
func (tr *tracker) start(t *testing.T, ctx context.Context, infoHashes ...string) {
	t.Helper()
	tr.proc = tr.kind.start(t, ctx, tr.addr, infoHashes)
	waitListening(t, ctx, tr.addr, tr.proc)
}

var (
	kindSwarmTracker = &trackerKind{name: "swarmtracker", start: startSwarmTracker}
	kindOpentracker  = &trackerKind{name: "opentracker", start: startOpentracker}
	trackerKinds     = []*trackerKind{kindSwarmTracker, kindOpentracker}
)

// announceInterval is what the swarm tracker tells clients: short, so that peers that missed
// each other meet again quickly.
const announceInterval = "5s"

// startSwarmTracker runs `swarm tracker` over HTTP only: the harness picked a free TCP port,
// and the UDP port of the same number might be taken.
func startSwarmTracker(t *testing.T, ctx context.Context, addr string, _ []string) *proc {
	t.Helper()
	needSwarm(t)
	return startProc(t, ctx, "swarm-tracker", env.swarm, "--log-level=debug", "tracker",
		"--listen", addr, "--interval", announceInterval, "--udp", "off")
}

// startOpentracker runs Debian's whitelist build of opentracker. As root it chroots into its
// -d folder; otherwise the chroot fails and it carries on in its working folder. Running it
// in that same folder with a relative whitelist path finds the list either way.
func startOpentracker(t *testing.T, ctx context.Context, addr string, infoHashes []string) *proc {
	t.Helper()
	need(t, toolOpentracker)
	dir := t.TempDir()
	list := strings.Join(infoHashes, "\n") + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "whitelist"), []byte(list), 0o644))
	ip, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	return startProcIn(t, ctx, dir, "opentracker", "opentracker", "-d", dir, "-w", "whitelist",
		"-i", ip, "-p", port, "-P", port, "-A", ip)
}

// waitListening waits until addr answers HTTP.
func waitListening(t *testing.T, ctx context.Context, addr string, p *proc) {
	t.Helper()
	err := poll(ctx, 50*time.Millisecond, func() (bool, error) {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return true, nil
	}, p)
	require.NoError(t, err, "tracker at %s", addr)
}

// scrapeCounts is one torrent's entry in a scrape reply (BEP 48).
type scrapeCounts struct {
	Complete   int `bencode:"complete"`
	Incomplete int `bencode:"incomplete"`
	Downloaded int `bencode:"downloaded"`
}

// scrape asks the tracker how many seeders and leechers it knows for infoHash.
func (tr *tracker) scrape(ctx context.Context, infoHash string) (scrapeCounts, error) {
	raw, err := hex.DecodeString(infoHash)
	if err != nil {
		return scrapeCounts{}, err
	}
	u := "http://" + tr.addr + "/scrape?info_hash=" + url.QueryEscape(string(raw))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return scrapeCounts{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return scrapeCounts{}, fmt.Errorf("scrape: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return scrapeCounts{}, fmt.Errorf("scrape: %w", err)
	}
	var reply struct {
		Files   map[string]scrapeCounts `bencode:"files"`
		Failure string                  `bencode:"failure reason"`
	}
	if err := bencode.Unmarshal(body, &reply); err != nil {
		return scrapeCounts{}, fmt.Errorf("scrape reply %q: %w", body, err)
	}
	if reply.Failure != "" {
		return scrapeCounts{}, fmt.Errorf("scrape: %s", reply.Failure)
	}
	c, ok := reply.Files[string(raw)]
	if !ok && len(reply.Files) == 0 {
		return scrapeCounts{}, nil
	}
	return c, nil
}

// waitSwarm waits until the tracker reports at least seeders complete and leechers
// incomplete peers for the torrent: the way the harness knows a seeder has checked its data
// and announced, or a leecher has announced.
func (tr *tracker) waitSwarm(t *testing.T, ctx context.Context, infoHash string, seeders, leechers int, watch ...*proc) {
	t.Helper()
	var last scrapeCounts
	var lastErr error
	err := poll(ctx, 100*time.Millisecond, func() (bool, error) {
		last, lastErr = tr.scrape(ctx, infoHash)
		return lastErr == nil && last.Complete >= seeders && last.Incomplete >= leechers, nil
	}, append(watch, tr.proc)...)
	require.NoError(t, err, "waiting for %d seeders and %d leechers at %s: last scrape %+v %v",
		seeders, leechers, strings.TrimPrefix(tr.URL(), "http://"), last, lastErr)
}
