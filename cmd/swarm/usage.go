package main

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Usage errors, version and completion: what every command shares about how it is called.

// usageError is a command called with the wrong operands or flags. It names the command and
// what is wrong, and carries the usage line, on one line (cobra's own "accepts 1 arg(s),
// received 0" said neither which command nor what was missing).
type usageError struct {
	cmd   string // the command path without the program name: "create", "ctl add"
	msg   string
	usage string
}

func (e *usageError) Error() string {
	return fmt.Sprintf("%s: %s (usage: %s)", e.cmd, e.msg, e.usage)
}

// explainUsage makes the argument and flag errors of c and its subcommands usage errors.
// Each command keeps its own cobra.PositionalArgs; only the message changes.
func explainUsage(c *cobra.Command) {
	c.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return newUsageError(cmd, err.Error())
	})
	for _, sub := range c.Commands() {
		explainUsage(sub)
	}
	inner := c.Args
	if inner == nil {
		return
	}
	c.Args = func(cmd *cobra.Command, args []string) error {
		if err := inner(cmd, args); err != nil {
			return newUsageError(cmd, argsProblem(operands(cmd.Use), args))
		}
		return nil
	}
}

func newUsageError(cmd *cobra.Command, msg string) *usageError {
	name := strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
	return &usageError{cmd: name, msg: msg, usage: cmd.UseLine()}
}

// argsProblem says what is wrong with args, given the operands the usage line names.
func argsProblem(want []string, args []string) string {
	switch {
	case len(want) == 0:
		return fmt.Sprintf("takes no arguments, got %q", args)
	case len(args) == 0:
		return "missing " + strings.Join(want, " ")
	default:
		return fmt.Sprintf("want %s, got %d arguments %q", strings.Join(want, " "), len(args), args)
	}
}

// operands returns the operands in a cobra Use line: the words after the command's name
// that are neither flags nor inside brackets ("create PATH [-a URL]..." gives PATH).
func operands(use string) []string {
	var out []string
	depth := 0
	for i, w := range strings.Fields(use) {
		open := depth
		depth += strings.Count(w, "[") - strings.Count(w, "]")
		if i == 0 || open > 0 || strings.HasPrefix(w, "[") || strings.HasPrefix(w, "-") {
			continue
		}
		out = append(out, w)
	}
	return out
}

// version is what `swarm --version` prints after the program's name: the module version
// (a tag, or "(devel)" when built from a work tree), the commit, whether the tree had
// changes, and the Go version, from the build information the go command embeds.
func version(info *debug.BuildInfo, ok bool) string {
	if !ok || info == nil {
		return "unknown (no build information)"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var extra []string
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		extra = append(extra, "commit "+rev[:min(len(rev), 12)])
	}
	if settings["vcs.modified"] == "true" {
		extra = append(extra, "modified")
	}
	if info.GoVersion != "" {
		extra = append(extra, info.GoVersion)
	}
	if len(extra) == 0 {
		return v
	}
	return v + " (" + strings.Join(extra, ", ") + ")"
}

// torrentArgCommands take .torrent files as operands; completion offers those.
var torrentArgCommands = map[string]bool{"get": true, "seed": true, "info": true}

// completeTorrents makes shell completion suggest *.torrent files (and folders to walk
// into) for the commands that take torrents.
func completeTorrents(root *cobra.Command) {
	for _, c := range root.Commands() {
		if torrentArgCommands[c.Name()] {
			c.ValidArgsFunction = func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
				return []cobra.Completion{"torrent"}, cobra.ShellCompDirectiveFilterFileExt
			}
		}
	}
}
