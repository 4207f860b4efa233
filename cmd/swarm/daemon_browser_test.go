package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/internal/testenv"
	"github.com/swarm-bt/swarm/metainfo"
)

// syncBuffer is an io.Writer that tests can read while a command writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var loginRE = regexp.MustCompile(`web page \(log in once\): (http://\S+)`)

// waitLoginURL waits for the daemon to print its login URL.
func waitLoginURL(t *testing.T, out fmt.Stringer, errc <-chan error) string {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		if m := loginRE.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
		select {
		case err := <-errc:
			t.Fatalf("daemon exited: %v\n%s", err, out)
		case <-deadline:
			t.Fatalf("no login URL printed:\n%s", out)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// startDaemonInProcess runs `swarm daemon args... --no-dht` in this process until the test
// ends and returns its login URL. No DHT: a test must never reach the public routers.
func startDaemonInProcess(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, append(append([]string{"daemon"}, args...), "--no-dht"), out, out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-errc:
			assert.NoError(t, err)
		case <-time.After(20 * time.Second):
			t.Error("daemon did not stop")
		}
	})
	return waitLoginURL(t, out, errc)
}

// pageState is what the browser test reads from the torrent's page.
type pageState struct {
	Have, Pieces int
	State        string
	Peers        []struct{ Addr, State string }
}

const readPageJS = `(() => {
  const c = document.querySelector('#piece-map');
  return {
    have: +(c.dataset.have || 0), pieces: +(c.dataset.pieces || 0),
    state: document.querySelector('#detail-view').dataset.state || '',
    peers: [...document.querySelectorAll('#peers tbody tr')].map(r => ({addr: r.dataset.addr, state: r.querySelector('.peer-state').textContent})),
  };
})()`

// TestDaemonBrowser drives the page in headless Chromium: log in through the printed URL,
// upload a .torrent, watch the piece map fill and the peer ledger list the seeder, and see
// the download complete.
func TestDaemonBrowser(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		testenv.MissingTool(t, "chromium", err)
	}
	t.Parallel()
	seedDir, dataDir := t.TempDir(), t.TempDir()
	tpath, payload := writeTorrent(t, seedDir, "browser.bin", 3<<20+777, startTestTracker(t))
	mi, err := metainfo.Load(tpath)
	require.NoError(t, err)
	_, seederAddr, _ := killSeeder(t, mi, seedDir) // 1 MiB/s: the map fills over seconds
	login := startDaemonInProcess(t, "--data", dataDir, "--listen", "127.0.0.1:0", "--port", "0", "--bind", "127.0.0.1")

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.NoFirstRun, chromedp.DisableGPU,
		chromedp.WindowSize(1100, 1000))
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	ih := mi.InfoHash.String()
	require.NoError(t, chromedp.Do(bctx,
		chromedp.Navigate(login),
		chromedp.WaitVisible(chromedp.CSS("#app")),
		chromedp.SetUploadFiles(chromedp.CSS("#add-file"), []string{tpath}),
		chromedp.Click(chromedp.CSS("#add-submit")),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-ih="`+ih+`"]`)),
		chromedp.Click(chromedp.CSS(`tr[data-ih="`+ih+`"] a`)),
		chromedp.WaitVisible(chromedp.CSS("#detail-view")),
	), "log in and add the torrent through the page")

	var partial, seederSeen bool
	var st pageState
	for deadline := time.Now().Add(60 * time.Second); ; {
		st, err = chromedp.Run(bctx, chromedp.Evaluate[pageState](readPageJS))
		require.NoError(t, err)
		if st.Pieces > 0 && st.Have > 0 && st.Have < st.Pieces {
			partial = true
		}
		for _, p := range st.Peers {
			seederSeen = seederSeen || p.Addr == seederAddr && p.State == "connected"
		}
		if st.State == "seeding" && st.Have == st.Pieces && st.Pieces > 0 {
			break
		}
		require.False(t, time.Now().After(deadline), "download did not complete in the page: %+v", st)
		time.Sleep(100 * time.Millisecond)
	}
	assert.Equal(t, mi.Info.NumPieces(), st.Pieces)
	assert.True(t, partial, "the piece map never showed a partial download")
	assert.True(t, seederSeen, "the peer ledger never listed the seeder %s as connected", seederAddr)
	got, err := os.ReadFile(filepath.Join(dataDir, "downloads", "browser.bin"))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(payload, got), "downloaded payload differs")

	if dir := os.Getenv("SWARM_SCREENSHOT_DIR"); dir != "" {
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "daemon-page.png"), png, 0o644))
		// A phone's width: the torrent page, then the list.
		require.NoError(t, chromedp.Do(bctx, chromedp.EmulateViewport(390, 844)))
		for _, shot := range []struct{ name, hash string }{{"phone-torrent", ""}, {"phone-list", "#/"}} {
			if shot.hash != "" {
				require.NoError(t, chromedp.Do(bctx, chromedp.Navigate(strings.Replace(login, "/login?token=", "/?", 1)+shot.hash),
					chromedp.WaitVisible(chromedp.CSS(`tr[data-ih="`+ih+`"]`))))
			}
			png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dir, shot.name+".png"), png, 0o644))
		}
	}
}
