package interop

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// logTail is how many lines of a tool's log a failing case prints.
const logTail = 150

// proc is one running tool. done is closed when it exits; err then holds its exit error.
type proc struct {
	name string
	log  string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// startProc starts argv with stdout and stderr going to a log file in a fresh temp folder. The
// process is killed (with its process group) when ctx ends or the test finishes, and its log
// is printed if the test failed.
func startProc(t *testing.T, ctx context.Context, name string, argv ...string) *proc {
	t.Helper()
	return startProcIn(t, ctx, "", name, argv...)
}

// startProcIn is startProc with the working folder set to dir ("" = the test's).
func startProcIn(t *testing.T, ctx context.Context, dir, name string, argv ...string) *proc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("create log for %s: %v", name, err)
	}
	fmt.Fprintf(f, "$ %s\n", strings.Join(argv, " "))
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	p := &proc{name: name, log: logPath, cmd: cmd, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop(); p.dumpIfFailed(t) })
	return p
}

// stop kills the process group and waits for the process.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// exited reports whether the process has ended, without waiting.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits for the process to exit and returns its exit error, or ctx's error.
func (p *proc) wait(ctx context.Context) error {
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("%s: %w", p.name, p.err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s still running: %w", p.name, ctx.Err())
	}
}

var dumpMu sync.Mutex

// dumpIfFailed prints the last lines of the log when the test failed, or always with
// SWARM_INTEROP_LOGS=1.
func (p *proc) dumpIfFailed(t *testing.T) {
	if !t.Failed() && os.Getenv("SWARM_INTEROP_LOGS") != "1" {
		return
	}
	dumpMu.Lock()
	defer dumpMu.Unlock()
	t.Logf("---- %s log (%s), last %d lines ----\n%s", p.name, p.log, logTail, tail(p.log, logTail))
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 4*n {
			lines = append(lines[:0], lines[len(lines)-n:]...)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// errStopped is returned by waits when a process they depend on exits first.
var errStopped = errors.New("interop: process exited early")

// poll calls cond every interval until it returns true or an error, ctx ends, or one of the
// watched processes exits.
func poll(ctx context.Context, interval time.Duration, cond func() (bool, error), watch ...*proc) error {
	tk := time.NewTicker(interval)
	defer tk.Stop()
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		for _, p := range watch {
			if p.exited() {
				return fmt.Errorf("%s (%v): %w", p.name, p.err, errStopped)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tk.C:
		}
	}
}

// run runs a short command and returns its combined output.
func run(ctx context.Context, argv ...string) (string, error) {
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, out)
	}
	return string(out), nil
}
