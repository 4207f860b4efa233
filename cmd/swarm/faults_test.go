package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swarm-bt/swarm/internal/testenv"
	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/bitfield"
	"github.com/swarm-bt/swarm/peer/storage"
)

// faultChildEnv carries the JSON arguments of `swarm` for the helper process.
const faultChildEnv = "SWARM_FAULT_CHILD_ARGS"

// TestFaultKillChild is not a test: it is the `swarm` process that TestFaultKillGet starts
// (the test binary re-executed) and kills.
func TestFaultKillChild(t *testing.T) {
	raw := os.Getenv(faultChildEnv)
	if raw == "" {
		t.Skip("helper process of TestFaultKillGet")
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		fmt.Fprintln(os.Stderr, "bad", faultChildEnv, err)
		os.Exit(2)
	}
	if err := run(context.Background(), args, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "swarm:", err)
		os.Exit(exitCode(err))
	}
	os.Exit(0)
}

// pieceReads counts the seeder's reads per piece: what it served.
type pieceReads struct {
	storage.Storage
	pieceLen int64
	mu       sync.Mutex
	n        map[int]int
}

func (c *pieceReads) ReadAt(p []byte, off int64) (int, error) {
	c.mu.Lock()
	c.n[int(off/c.pieceLen)]++
	c.mu.Unlock()
	return c.Storage.ReadAt(p, off)
}

func (c *pieceReads) take() map[int]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[int]int{}
	return n
}

// killSeeder runs a seeder of the content in dir, capped at 1 MiB/s and announcing to the
// torrent's tracker, and returns it, its address and its read counter.
func killSeeder(t *testing.T, mi *metainfo.MetaInfo, dir string) (*peer.Swarm, string, *pieceReads) {
	t.Helper()
	st, err := storage.OpenFiles(&mi.Info, dir)
	require.NoError(t, err)
	reads := &pieceReads{Storage: st, pieceLen: mi.Info.PieceLength, n: map[int]int{}}
	full := bitfield.New(mi.Info.NumPieces())
	for i := range mi.Info.NumPieces() {
		full.Set(i)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	discard := slog.New(slog.DiscardHandler)
	ann, err := newTrackerAnnouncer(mi.Trackers(), "127.0.0.1", discard)
	require.NoError(t, err)
	sw, err := peer.New(peer.Config{Info: &mi.Info, InfoHash: mi.InfoHash, Storage: reads, Have: full,
		Listener: ln, UploadLimiter: peer.NewLimiter(1 << 20), Announcer: ann, Logger: discard})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = sw.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait(); _ = st.Close() })
	return sw, ln.Addr().String(), reads
}

// TestFaultKillGet kills `swarm get` with SIGKILL at random moments, then restarts it: every
// run resumes from what is on disk, the seeder never serves a piece again once it was on disk
// and verified, no verified piece is lost, and the final file is byte-identical. Three kills
// by default; SWARM_FAULTS_LONG=1 makes it twenty.
func TestFaultKillGet(t *testing.T) {
	kills := 3
	if os.Getenv("SWARM_FAULTS_LONG") != "" {
		kills = 20
	}
	seedDir, getDir := t.TempDir(), t.TempDir()
	data := make([]byte, 3<<20+12345)
	_, _ = rand.NewChaCha8([32]byte{7}).Read(data)
	require.NoError(t, os.WriteFile(filepath.Join(seedDir, "killed.bin"), data, 0o644))
	mi, err := metainfo.Create(context.Background(), metainfo.CreateConfig{Path: filepath.Join(seedDir, "killed.bin"),
		PieceLength: 32 << 10, Announce: [][]string{{startTestTracker(t)}}})
	require.NoError(t, err)
	b, err := mi.Marshal()
	require.NoError(t, err)
	tpath := filepath.Join(t.TempDir(), "killed.torrent")
	require.NoError(t, os.WriteFile(tpath, b, 0o644))
	seeder, _, reads := killSeeder(t, mi, seedDir)
	// The download rate is capped so that the kills land mid-download: unthrottled, the 3 MiB
	// arrive in well under the first kill's delay.
	args, err := json.Marshal([]string{"get", tpath, "-d", getDir, "--port", "0", "--bind", "127.0.0.1", "-q",
		"--down-rate", "512KiB/s"})
	require.NoError(t, err)

	rng := rand.New(rand.NewPCG(7, 7))
	onDisk := bitfield.New(mi.Info.NumPieces())
	for k := range kills + 1 {
		last := k == kills
		cmd := exec.Command(os.Args[0], "-test.run=^TestFaultKillChild$")
		cmd.Env = append(os.Environ(), faultChildEnv+"="+string(args))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Start())
		if last {
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err = <-done:
			case <-time.After(60 * time.Second):
				_ = cmd.Process.Kill()
				<-done
				t.Fatalf("the last run did not finish: %s", out.String())
			}
			require.NoError(t, err, "the last run must complete: %s", out.String())
		} else {
			time.Sleep(time.Duration(50+rng.IntN(1450)) * time.Millisecond)
			require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			_ = cmd.Wait()
		}
		require.True(t, poll(5*time.Second, func() bool { return len(seeder.Stats().Peers) == 0 }), "the seeder still sees the killed peer")
		served := reads.take()
		for i := range mi.Info.NumPieces() {
			assert.Zero(t, served[i]*b2i(onDisk.Has(i)), "run %d: piece %d was verified on disk before the run and served again", k, i)
		}
		if last {
			break
		}
		now := checkDisk(t, mi, getDir)
		for i := range mi.Info.NumPieces() {
			assert.True(t, now.Has(i) || !onDisk.Has(i), "run %d: verified piece %d lost", k, i)
		}
		t.Logf("run %d killed: %d of %d pieces verified on disk", k, now.Count(), mi.Info.NumPieces())
		onDisk = now
	}
	got, err := os.ReadFile(filepath.Join(getDir, "killed.bin"))
	require.NoError(t, err)
	require.True(t, bytes.Equal(data, got), "the final file differs from the source")
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}

// checkDisk returns the pieces of the content in dir that pass their hash.
func checkDisk(t *testing.T, mi *metainfo.MetaInfo, dir string) bitfield.Bitfield {
	t.Helper()
	st, err := storage.OpenFiles(&mi.Info, dir)
	require.NoError(t, err)
	defer st.Close()
	have, err := storage.Check(context.Background(), &mi.Info, st, 2, nil)
	require.NoError(t, err)
	return have
}

// poll checks cond every 20 ms until it holds or timeout passes.
func poll(timeout time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}

// TestFaultGetKnownPeer: `swarm get --peer ADDR` must download from a peer given on the
// command line (no tracker), as when the tracker is down but the peer is known.
func TestFaultGetKnownPeer(t *testing.T) {
	getKnownPeer(t, &app{}, "swarm get --peer hangs")
}

// TestGetExitsAtCompletion: `swarm get` returns once the download completes, not at its
// next periodic poll (here an hour away).
func TestGetExitsAtCompletion(t *testing.T) {
	getKnownPeer(t, &app{pollEvery: time.Hour}, "swarm get waits for its poll to exit")
}

// getKnownPeer runs `swarm get --peer` (and extra arguments) with a as the app against a
// seeder in this process and checks the download; hang is the failure if it does not return
// within 30 s.
func getKnownPeer(t *testing.T, a *app, hang string, extra ...string) {
	seedDir, getDir := t.TempDir(), t.TempDir()
	data := make([]byte, 200<<10)
	_, _ = rand.NewChaCha8([32]byte{8}).Read(data)
	require.NoError(t, os.WriteFile(filepath.Join(seedDir, "known.bin"), data, 0o644))
	mi, err := metainfo.Create(context.Background(), metainfo.CreateConfig{Path: filepath.Join(seedDir, "known.bin"),
		PieceLength: 32 << 10, Announce: [][]string{{"http://127.0.0.1:1/announce"}}})
	require.NoError(t, err)
	b, err := mi.Marshal()
	require.NoError(t, err)
	tpath := filepath.Join(t.TempDir(), "known.torrent")
	require.NoError(t, os.WriteFile(tpath, b, 0o644))
	_, addr, _ := killSeeder(t, mi, seedDir)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out bytes.Buffer
	a.stdout, a.stderr = &out, &out
	done := make(chan error, 1)
	go func() {
		done <- runApp(ctx, a, append([]string{"get", tpath, "-d", getDir, "--port", "0", "--bind", "127.0.0.1", "-q",
			"--peer", addr}, extra...))
	}()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second): // the context does not reach a hang before Run
		t.Fatal(hang)
	}
	require.NoError(t, err, "%s", out.String())
	require.NoError(t, ctx.Err(), "%s: it returned only when its context expired", hang)
	got, err := os.ReadFile(filepath.Join(getDir, "known.bin"))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(data, got))
}

// TestFaultGetDiskFull: `swarm get` onto a full tmpfs fails with an error naming the file;
// after the tmpfs grows, the same command resumes and completes. It needs root (mount).
func TestFaultGetDiskFull(t *testing.T) {
	dir := testenv.Tmpfs(t, "1m")
	seedDir := t.TempDir()
	data := make([]byte, 3<<20)
	_, _ = rand.NewChaCha8([32]byte{9}).Read(data)
	require.NoError(t, os.WriteFile(filepath.Join(seedDir, "big.bin"), data, 0o644))
	mi, err := metainfo.Create(context.Background(), metainfo.CreateConfig{Path: filepath.Join(seedDir, "big.bin"),
		PieceLength: 64 << 10, Announce: [][]string{{startTestTracker(t)}}})
	require.NoError(t, err)
	b, err := mi.Marshal()
	require.NoError(t, err)
	tpath := filepath.Join(t.TempDir(), "big.torrent")
	require.NoError(t, os.WriteFile(tpath, b, 0o644))
	killSeeder(t, mi, seedDir)
	get := func() (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var out bytes.Buffer
		err := run(ctx, []string{"get", tpath, "-d", dir, "--port", "0", "--bind", "127.0.0.1", "-q"}, &out, &out)
		return out.String(), err
	}
	out, err := get()
	require.Error(t, err, out)
	t.Logf("first run: %v", err)
	assert.Equal(t, exitFailed, exitCode(err))
	assert.ErrorContains(t, err, filepath.Join(dir, "big.bin"))
	assert.ErrorContains(t, err, "disk full")
	assert.NotEqual(t, context.DeadlineExceeded, ctxErr(err), "it must stop at once, not time out")

	testenv.Remount(t, dir, "size=8m")
	out, err = get()
	require.NoError(t, err, out)
	got, err := os.ReadFile(filepath.Join(dir, "big.bin"))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(data, got), "the resumed download differs from the source")
}

func ctxErr(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return context.DeadlineExceeded
	}
	return nil
}
