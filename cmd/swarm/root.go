package main

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// exitError carries a specific exit status out of a command, e.g. "download incomplete".
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	if ee, ok := errors.AsType[*exitError](err); ok {
		return ee.code
	}
	return 1
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:           "swarm",
		Short:         "A BitTorrent toolkit: create, inspect, track, seed and download torrents",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.setupLogger()
		},
	}
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "warn", "log level: debug, info, warn, error")
	root.PersistentFlags().BoolVar(&a.logJSON, "log-json", false, "write logs as JSON lines")
	root.AddCommand(
		newCreateCmd(a),
		newInfoCmd(a),
		newTrackerCmd(a),
		newSeedCmd(a),
		newGetCmd(a),
		newDemoCmd(a),
		newDaemonCmd(a),
		newCtlCmd(a),
		newDHTCmd(a),
	)
	explainUsage(root)
	completeTorrents(root)
	root.Version = version(debug.ReadBuildInfo())
	root.SetVersionTemplate("swarm {{.Version}}\n")
	return root
}

func (a *app) setupLogger() error {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(strings.ToUpper(a.logLevel))); err != nil {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", a.logLevel)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler = slog.NewTextHandler(a.stderr, opts)
	if a.logJSON {
		h = slog.NewJSONHandler(a.stderr, opts)
	}
	a.logger = slog.New(h)
	slog.SetDefault(a.logger)
	return nil
}
