// Command swarm is a BitTorrent toolkit: create and inspect torrents, run a tracker, seed and
// download.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	a := &app{stdout: os.Stdout, stderr: os.Stderr, recheck: notifyHangup, dhtRouters: defaultDHTRouters, setProcs: runtime.GOMAXPROCS}
	if dir, err := os.UserCacheDir(); err == nil {
		a.dhtState = filepath.Join(dir, "swarm", "dht.dat")
	}
	stopProfiles := startProfiles()
	err := runApp(ctx, a, os.Args[1:])
	stopProfiles()
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "swarm:", err)
		os.Exit(exitCode(err))
	}
}

// notifyHangup delivers SIGHUP from now on. Only get and seed call it (to re-check their
// content), so the other commands keep the default: a hangup ends them.
func notifyHangup() <-chan os.Signal {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGHUP)
	return c
}

// run is the whole program minus process concerns, so tests can drive it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runApp(ctx, &app{stdout: stdout, stderr: stderr}, args)
}

// runApp runs the program with a prepared app, so tests can inject a recheck channel.
func runApp(ctx context.Context, a *app, args []string) error {
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	return root.ExecuteContext(ctx)
}

// app carries what every command shares: its output streams, the logger built from the
// global flags, and how get and seed subscribe to recheck requests (SIGHUP; nil = none).
type app struct {
	stdout, stderr io.Writer
	recheck        func() <-chan os.Signal
	logger         *slog.Logger
	logLevel       string
	logJSON        bool
	// dhtRouters and dhtState are get's and seed's DHT defaults (the public routers, the
	// user cache folder). Only main sets them: run, the tests' entry point, has neither, so
	// no test reaches the public DHT or writes the user's state by forgetting --no-dht.
	dhtRouters []string
	dhtState   string
	// setProcs sets GOMAXPROCS for --cpus (runtime.GOMAXPROCS). Only main sets it: tests
	// drive commands in the test process and leave its GOMAXPROCS alone.
	setProcs func(int) int
	// pollEvery is how often get and seed refresh the display and check seed limits (0:
	// 250 ms); completions and stops do not wait for it.
	pollEvery time.Duration
}
