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
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	err := runApp(ctx, &app{stdout: os.Stdout, stderr: os.Stderr, recheck: hup}, os.Args[1:])
	signal.Stop(hup)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "swarm:", err)
		os.Exit(exitCode(err))
	}
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
// global flags, and the recheck requests (SIGHUP; nil = none).
type app struct {
	stdout, stderr io.Writer
	recheck        <-chan os.Signal
	logger         *slog.Logger
	logLevel       string
	logJSON        bool
}
