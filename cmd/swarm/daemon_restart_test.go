package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/daemon"
	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer/bitfield"
)

// apiClient calls a daemon's API with its token, as swarm ctl does.
type apiClient struct {
	base, token string
}

func (c apiClient) do(t *testing.T, method, path string, body any, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+"/api/v1"+path, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("X-Swarm-Request", "test")
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	require.Less(t, resp.StatusCode, 300, "%s %s: %s", method, path, raw)
	if out != nil {
		require.NoError(t, json.Unmarshal(raw, out))
	}
}

// daemonChild is `swarm daemon` in a child process (the test binary re-executed), so that
// it can be killed with SIGKILL.
type daemonChild struct {
	cmd *exec.Cmd
	out *syncBuffer
	api apiClient
}

func startDaemonChild(t *testing.T, dataDir string, extra ...string) *daemonChild {
	t.Helper()
	args, err := json.Marshal(append([]string{"daemon", "--data", dataDir, "--listen", "127.0.0.1:0", "--port", "0", "--bind", "127.0.0.1", "--no-dht"}, extra...))
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^TestFaultKillChild$")
	cmd.Env = append(os.Environ(), faultChildEnv+"="+string(args))
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	errc := make(chan error, 1)
	go func() { errc <- cmd.Wait() }()
	c := &daemonChild{cmd: cmd, out: out}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-errc
	})
	login := waitLoginURL(t, out, errc)
	base, _, _ := strings.Cut(login, "/login?")
	tok, err := os.ReadFile(filepath.Join(dataDir, "token"))
	require.NoError(t, err)
	c.api = apiClient{base: base, token: strings.TrimSpace(string(tok))}
	return c
}

func (c *daemonChild) status(t *testing.T, ih string) daemon.Status {
	var st daemon.Status
	c.api.do(t, http.MethodGet, "/torrents/"+ih, nil, &st)
	return st
}

// savedDownloaded is the download total state.json holds for the only torrent (0 before the
// first save).
func savedDownloaded(t *testing.T, dataDir string) int64 {
	raw, err := os.ReadFile(filepath.Join(dataDir, "state.json"))
	if err != nil {
		return 0
	}
	var sf struct {
		Torrents []struct {
			Downloaded int64 `json:"downloaded"`
		} `json:"torrents"`
	}
	require.NoError(t, json.Unmarshal(raw, &sf))
	if len(sf.Torrents) != 1 {
		return 0
	}
	return sf.Torrents[0].Downloaded
}

// TestDaemonKillRestart kills the daemon with SIGKILL mid-download and starts it again: the
// torrent list is intact, the download resumes, the seeder never serves again a piece that
// was verified before the kill, the file completes byte for byte, and the totals saved
// before the kill are carried over.
func TestDaemonKillRestart(t *testing.T) {
	t.Parallel()
	seedDir, dataDir := t.TempDir(), t.TempDir()
	tpath, payload := writeTorrent(t, seedDir, "restart.bin", 4<<20+4321, startTestTracker(t))
	mi, err := metainfo.Load(tpath)
	require.NoError(t, err)
	seeder, _, reads := killSeeder(t, mi, seedDir) // 1 MiB/s: about 4 s to download
	raw, err := os.ReadFile(tpath)
	require.NoError(t, err)
	ih := mi.InfoHash.String()

	c := startDaemonChild(t, dataDir, "--save-every", "100ms")
	var added daemon.Status
	c.api.do(t, http.MethodPost, "/torrents", map[string]any{"torrent": base64.StdEncoding.EncodeToString(raw)}, &added)
	require.Equal(t, ih, added.InfoHash)

	// Wait until it is well into the download, note what is verified, and kill it.
	var before bitfield.Bitfield
	require.True(t, poll(30*time.Second, func() bool {
		st := c.status(t, ih)
		return st.Progress >= 0.25 && st.Progress <= 0.75 && savedDownloaded(t, dataDir) > 0
	}), "never mid-download with totals saved: %+v", c.status(t, ih))
	var pcs daemon.Pieces
	c.api.do(t, http.MethodGet, "/torrents/"+ih+"/pieces", nil, &pcs)
	haveBytes, err := base64.StdEncoding.DecodeString(pcs.Have)
	require.NoError(t, err)
	before, err = bitfield.FromBytes(haveBytes, pcs.NumPieces)
	require.NoError(t, err)
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGKILL))
	require.True(t, poll(10*time.Second, func() bool { return len(seeder.Stats().Peers) == 0 }), "the seeder still sees the killed daemon")
	_ = reads.take()
	saved := savedDownloaded(t, dataDir)
	require.Positive(t, before.Count())
	require.Less(t, before.Count(), mi.Info.NumPieces())

	// The restarted daemon lists the torrent, checks what is on disk and completes.
	c2 := startDaemonChild(t, dataDir)
	var list []daemon.Status
	c2.api.do(t, http.MethodGet, "/torrents", nil, &list)
	require.Len(t, list, 1)
	assert.Equal(t, ih, list[0].InfoHash)
	assert.Equal(t, filepath.Join(dataDir, "downloads"), list[0].SaveDir)
	require.True(t, poll(60*time.Second, func() bool { return c2.status(t, ih).State == daemon.StateSeeding }),
		"not complete after the restart: %+v\n%s", c2.status(t, ih), c2.out)
	served := reads.take()
	var refetched int64 // bytes of the pieces the seeder served after the restart
	for i := range mi.Info.NumPieces() {
		assert.Zero(t, served[i]*b2i(before.Has(i)), "piece %d was verified before the kill and fetched again", i)
		if served[i] > 0 {
			refetched += mi.Info.PieceSize(i)
		}
	}
	got, err := os.ReadFile(filepath.Join(dataDir, "downloads", "restart.bin"))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(payload, got), "the file differs from the source")
	st := c2.status(t, ih)
	// What was saved before the kill plus what came after it: the restart neither resets
	// the totals nor counts the resumed pieces again.
	assert.GreaterOrEqual(t, st.Downloaded, saved+refetched, "the totals carried over (saved %d, fetched after the restart %d)", saved, refetched)
	assert.Less(t, st.Downloaded, saved+int64(len(payload)), "the resumed pieces were counted again")
}
