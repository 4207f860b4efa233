// Command daemonload drives a running `swarm daemon` for bench/daemon.sh:
//
//	daemonload idle -n 1000 -dir DIR -pid PID   add N small seeded torrents, wait until all seed,
//	                                             then report RSS, idle CPU and API list latency
//	daemonload get -torrent F -dir DIR           add one torrent, print seconds to 100%
//
// It talks to the API as swarm ctl does (Bearer token, X-Swarm-Request).
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/swarm-bt/swarm/metainfo"
)

type client struct {
	base, token string
	hc          *http.Client
}

func (c client) call(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+"/api/v1"+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("X-Swarm-Request", "bench")
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

type status struct {
	InfoHash string  `json:"info_hash"`
	State    string  `json:"state"`
	Progress float64 `json:"progress"`
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: daemonload idle|get [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	url := fs.String("url", "http://127.0.0.1:9091", "daemon API")
	tokenFile := fs.String("token-file", "", "DIR/token")
	n := fs.Int("n", 1000, "idle: torrents")
	size := fs.Int("size", 16<<10, "idle: bytes per torrent")
	dir := fs.String("dir", "", "save folder (inside the daemon's allowed roots)")
	pid := fs.Int("pid", 0, "idle: the daemon's process id")
	idle := fs.Duration("idle", 60*time.Second, "idle: how long to measure CPU")
	torrent := fs.String("torrent", "", "get: the .torrent to add")
	_ = fs.Parse(os.Args[2:])
	tok, err := os.ReadFile(*tokenFile)
	check(err)
	c := client{base: *url, token: strings.TrimSpace(string(tok)), hc: &http.Client{Timeout: 60 * time.Second}}
	switch os.Args[1] {
	case "idle":
		runIdle(c, *n, *size, *dir, *pid, *idle)
	case "get":
		runGet(c, *torrent, *dir)
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", os.Args[1])
		os.Exit(2)
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "daemonload:", err)
		os.Exit(1)
	}
}

// runIdle adds n seeded torrents (payload written first), waits until every one seeds, and
// measures the idle daemon.
func runIdle(c client, n, size int, dir string, pid int, idle time.Duration) {
	start := time.Now()
	for i := range n {
		name := fmt.Sprintf("idle-%04d.bin", i)
		data := make([]byte, size)
		_, _ = rand.Read(data)
		p := filepath.Join(dir, name)
		check(os.WriteFile(p, data, 0o644))
		mi, err := metainfo.Create(context.Background(), metainfo.CreateConfig{Path: p, PieceLength: 16 << 10, NoDate: true})
		check(err)
		raw, err := mi.Marshal()
		check(err)
		check(c.call(http.MethodPost, "/torrents", map[string]any{"torrent": base64.StdEncoding.EncodeToString(raw), "save_dir": dir}, nil))
	}
	fmt.Printf("added %d torrents in %.1f s\n", n, time.Since(start).Seconds())
	for {
		var list []status
		check(c.call(http.MethodGet, "/torrents", nil, &list))
		seeding := 0
		for _, s := range list {
			if s.State == "seeding" {
				seeding++
			}
		}
		if seeding == n {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	fmt.Printf("all %d seeding after %.1f s\n", n, time.Since(start).Seconds())
	time.Sleep(5 * time.Second) // let start-up work settle
	t0, c0 := time.Now(), cpuTicks(pid)
	time.Sleep(idle)
	cpu := float64(cpuTicks(pid)-c0) / 100 / time.Since(t0).Seconds() // USER_HZ = 100
	fmt.Printf("idle CPU over %s: %.2f%% of a core\n", idle, 100*cpu)
	fmt.Printf("RSS: %.1f MiB\n", float64(rssKiB(pid))/1024)
	var lat []time.Duration
	for range 100 {
		t := time.Now()
		var list []status
		check(c.call(http.MethodGet, "/torrents", nil, &list))
		lat = append(lat, time.Since(t))
	}
	slices.Sort(lat)
	fmt.Printf("GET /api/v1/torrents (%d torrents, 100 calls): p50 %.1f ms, p99 %.1f ms\n", n,
		ms(lat[49]), ms(lat[98]))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// cpuTicks is the process's user+system time in clock ticks (/proc/PID/stat fields 14, 15).
func cpuTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	check(err)
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return u + k
}

func rssKiB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	check(err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
}

// runGet adds one torrent and prints the seconds until it is complete.
func runGet(c client, torrent, dir string) {
	raw, err := os.ReadFile(torrent)
	check(err)
	start := time.Now()
	var st status
	check(c.call(http.MethodPost, "/torrents", map[string]any{"torrent": base64.StdEncoding.EncodeToString(raw), "save_dir": dir}, &st))
	for {
		var s status
		check(c.call(http.MethodGet, "/torrents/"+st.InfoHash, nil, &s))
		if s.Progress >= 1 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Printf("%.3f\n", time.Since(start).Seconds())
	check(c.call(http.MethodDelete, "/torrents/"+st.InfoHash, nil, nil))
}
