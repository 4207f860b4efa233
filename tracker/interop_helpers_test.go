package tracker_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

// logBuffer collects a process's output safely and lets a test wait for a line.
type logBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines chan string
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// startProc starts a reference program bounded by ctx, killed at cleanup; its output is
// printed if the test fails. Lines of stdout are also sent to the returned buffer's channel.
func startProc(ctx context.Context, t *testing.T, name string, args ...string) (*exec.Cmd, *logBuffer) {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	log := &logBuffer{lines: make(chan string, 1024)}
	cmd.Stderr = log
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start(), name)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			_, _ = log.Write([]byte(sc.Text() + "\n"))
			select {
			case log.lines <- sc.Text():
			default:
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(name), log.String())
		}
	})
	return cmd, log
}

// waitLine waits for an output line containing want.
func waitLine(ctx context.Context, t *testing.T, log *logBuffer, want string) {
	t.Helper()
	for {
		select {
		case line := <-log.lines:
			if strings.Contains(line, want) {
				return
			}
		case <-ctx.Done():
			t.Fatalf("waiting for %q: %v", want, ctx.Err())
		}
	}
}

// waitDial waits until addr accepts TCP connections.
func waitDial(ctx context.Context, t *testing.T, addr string) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			_ = c.Close()
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("%s never accepted connections: %v", addr, ctx.Err())
		}
	}
}

// makePayload writes size random bytes to dir/name and returns them.
func makePayload(t *testing.T, dir, name string, size int) []byte {
	t.Helper()
	data := make([]byte, size)
	_, _ = rand.Read(data)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
	return data
}

// mktorrent creates dir/name.torrent for the file dir/name with 32 KiB pieces.
func mktorrent(t *testing.T, dir, name, announce string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name+".torrent")
	cmd := exec.Command("mktorrent", "-d", "-l", "15", "-a", announce, "-o", out, filepath.Join(dir, name))
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, string(b))
	return out
}

func itoaPort(p int) string { return strconv.Itoa(p) }
