package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/swarm-bt/swarm/internal/cores"
)

// registerCPUs adds --cpus to an engine command (get, seed, daemon).
func registerCPUs(cmd *cobra.Command, n *int) {
	cmd.Flags().IntVar(n, "cpus", 1, "cores the engine runs on while moving data (0 = all); one moves about 800 MB/s "+
		"at the least CPU per byte, content checks use every core anyway (GOMAXPROCS in the environment also works)")
}

// coreBudget applies the command's --cpus to the process (see internal/cores). Only main
// gives the app a setter: tests drive commands inside the test process, whose GOMAXPROCS
// they must not change.
func (a *app) coreBudget(cmd *cobra.Command, n int) *cores.Budget {
	return cores.New(cores.Plan(n, cmd.Flags().Changed("cpus"), os.Getenv("GOMAXPROCS")), a.setProcs)
}
