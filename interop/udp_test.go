package interop

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The UDP trackers (BEP 15): torrents announce to udp://ADDR/announce, the same address the
// harness scrapes over HTTP to watch the swarm. `swarm tracker` serves both on one address
// by default; opentracker gets -P next to -p.
var (
	kindSwarmTrackerUDP = &trackerKind{name: "swarmtracker-udp", start: startSwarmTrackerUDP, udp: true}
	kindOpentrackerUDP  = &trackerKind{name: "opentracker-udp", start: startOpentracker, udp: true}
)

// kindAria2UDP is aria2 able to use UDP trackers: it sends their requests from its DHT socket
// and says "udp is not supported yet" when the DHT is off. So its DHT is on, with nothing to
// reach: no entry point and a fresh routing table file of its own, so no node is ever
// contacted (the DHT socket is bound to the client's loopback address like the others).
var kindAria2UDP = &clientKind{name: "aria2", usesTrackerPeers: true, seedDialsOut: true,
	seed: func(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host) *node {
		t.Helper()
		need(t, toolAria2)
		args := append(aria2Args(tf, dir, h), aria2DHTArgs(t, h)...)
		args = append(args, "--check-integrity=true", "--bt-seed-unverified=false", "--seed-ratio=0.0")
		return &node{procs: []*proc{startProc(t, ctx, "aria2-seed", args...)}}
	},
	leech: func(t *testing.T, ctx context.Context, tf *torrentFile, dir string, h host) *node {
		t.Helper()
		need(t, toolAria2)
		args := append(aria2Args(tf, dir, h), aria2DHTArgs(t, h)...)
		return exitNode(startProc(t, ctx, "aria2-get", append(args, "--seed-time=0")...))
	},
}

// aria2DHTArgs turn aria2's DHT on for its UDP socket alone; later flags override the
// --enable-dht=false of aria2Args.
func aria2DHTArgs(t *testing.T, h host) []string {
	t.Helper()
	pc, err := net.ListenPacket("udp4", net.JoinHostPort(h.IP, "0"))
	require.NoError(t, err)
	port := pc.LocalAddr().(*net.UDPAddr).Port
	require.NoError(t, pc.Close())
	return []string{"--enable-dht=true", "--dht-file-path=" + filepath.Join(t.TempDir(), "dht.dat"),
		fmt.Sprintf("--dht-listen-port=%d", port)}
}

// startSwarmTrackerUDP runs `swarm tracker` serving UDP on its HTTP address, the default.
func startSwarmTrackerUDP(t *testing.T, ctx context.Context, addr string, _ []string) *proc {
	t.Helper()
	needSwarm(t)
	return startProc(t, ctx, "swarm-tracker", env.swarm, "--log-level=debug", "tracker",
		"--listen", addr, "--interval", announceInterval)
}

// freeTCPAndUDPPort returns a port free on ip for both TCP and UDP a moment ago, for a
// tracker serving both on one address.
func freeTCPAndUDPPort(t *testing.T, ip string) int {
	t.Helper()
	for range 50 {
		port := freePort(t, ip)
		pc, err := net.ListenPacket("udp4", net.JoinHostPort(ip, fmt.Sprint(port)))
		if err == nil {
			require.NoError(t, pc.Close())
			return port
		}
	}
	t.Fatalf("no port free for both TCP and UDP on %s", ip)
	return 0
}

// payloadLabelled returns the harness payload with that label.
func payloadLabelled(t *testing.T, label string) *payload {
	t.Helper()
	for _, p := range env.payloads {
		if p.Label == label {
			return p
		}
	}
	t.Fatalf("no payload %q", label)
	return nil
}

// TestUDPTracker: libtorrent, aria2 and Transmission announce to swarm's UDP tracker and a
// transfer completes through it; swarm's own client finds a libtorrent seeder through
// opentracker's UDP port, and through ours. Every file's sha256 is checked.
func TestUDPTracker(t *testing.T) {
	interopOnly(t)
	multi := payloadLabelled(t, "multi")
	for _, pr := range []pair{
		{tracker: kindSwarmTrackerUDP, seeder: kindLibtorrent, leecher: kindAria2UDP, payload: multi},
		{tracker: kindSwarmTrackerUDP, seeder: kindAria2UDP, leecher: kindLibtorrent, payload: multi},
		{tracker: kindSwarmTrackerUDP, seeder: kindLibtorrent, leecher: kindTransmission, payload: multi},
		{tracker: kindSwarmTrackerUDP, seeder: kindLibtorrent, leecher: kindSwarm, payload: multi},
		{tracker: kindOpentrackerUDP, seeder: kindLibtorrent, leecher: kindSwarm, payload: multi},
	} {
		t.Run(pr.name(), func(t *testing.T) {
			start(t)
			transfer(t, pr)
		})
	}
}

// quickStart bounds how long `swarm get` may take when its first tier is a UDP tracker that
// never answers. Giving up on it takes 3.5 s (tries after 0.5, 1 and 2 s); the download of
// the payload over loopback a second or two more. BEP 15's literal schedule (15 s, then 30,
// 60, ...) would blow through it.
const quickStart = 15 * time.Second

// TestUDPDeadFirstTierStartsQuickly: the leecher's torrent lists a silent UDP tracker in its
// first tier and the HTTP tracker in its second (BEP 12); the download still starts and ends
// within quickStart. The seeder's torrent names the HTTP tracker alone (the info-hash is the
// same: announce URLs are outside the info dictionary).
func TestUDPDeadFirstTierStartsQuickly(t *testing.T) {
	start(t)
	ctx, cancel := context.WithTimeout(context.Background(), caseTimeout)
	t.Cleanup(cancel)
	// A bound socket nobody reads: requests vanish without even an ICMP error.
	dead, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = dead.Close() })
	deadURL := "udp://" + dead.LocalAddr().String() + "/announce"

	p := payloadLabelled(t, "multi")
	tr := newTracker(t, kindSwarmTracker)
	seedTorrent := mktorrent(t, ctx, p, tr.URL())
	getTorrent := mktorrentTiers(t, ctx, p, deadURL, tr.URL())
	require.Equal(t, seedTorrent.InfoHash, getTorrent.InfoHash)
	tr.start(t, ctx, seedTorrent.InfoHash)

	seeder := seedLibtorrent(t, ctx, seedTorrent, copyPayload(t, p), newHost(t))
	tr.waitSwarm(t, ctx, seedTorrent.InfoHash, 1, 0, seeder.procs...)
	getDir := t.TempDir()
	began := time.Now()
	leecher := leechSwarm(t, ctx, getTorrent, getDir, newHost(t))
	quick, stop := context.WithTimeout(ctx, quickStart)
	defer stop()
	require.NoError(t, waitComplete(quick, leecher, seeder), "download with a dead first tier")
	t.Logf("swarm get complete after %v with a silent UDP tracker in tier 1", time.Since(began).Round(time.Millisecond))
	verifyDownload(t, getTorrent, p.Dir, getDir, false)
}

// mktorrentTiers makes a torrent of p whose announce-list has one tier per URL, in order.
func mktorrentTiers(t *testing.T, ctx context.Context, p *payload, urls ...string) *torrentFile {
	t.Helper()
	need(t, toolMktorrent)
	out := filepath.Join(t.TempDir(), p.Label+"-tiers.torrent")
	argv := []string{"mktorrent", "-d", "-l", "16"}
	for _, u := range urls {
		argv = append(argv, "-a", u)
	}
	_, err := run(ctx, append(argv, "-o", out, p.Root())...)
	require.NoError(t, err)
	return readTorrent(t, out)
}
