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
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "swarm:", err)
		os.Exit(exitCode(err))
	}
}

// run is the whole program minus process concerns, so tests can drive it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := &app{stdout: stdout, stderr: stderr}
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return root.ExecuteContext(ctx)
}

// app carries what every command shares: its output streams and the logger built from the
// global flags.
type app struct {
	stdout, stderr io.Writer
	logger         *slog.Logger
	logLevel       string
	logJSON        bool
}
