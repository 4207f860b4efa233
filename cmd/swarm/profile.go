package main

import (
	"cmp"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// Profiles for engine work (bench/, docs/engine.md): SWARM_CPUPROFILE=FILE writes a CPU
// profile of the whole run, SWARM_MEMPROFILE=FILE an allocation profile at its end (read
// with go tool pprof). Environment variables rather than flags: they are for developers and
// the benchmark scripts, not part of the command line users learn.
func startProfiles() (stop func()) {
	var stops []func()
	if path := os.Getenv("SWARM_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err != nil {
			fmt.Fprintln(os.Stderr, "swarm: cpu profile:", err)
		} else if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "swarm: cpu profile:", err)
			_ = f.Close()
		} else {
			stops = append(stops, func() { pprof.StopCPUProfile(); _ = f.Close() })
		}
	}
	if path := os.Getenv("SWARM_MEMPROFILE"); path != "" {
		runtime.MemProfileRate = 64 << 10
		stops = append(stops, func() {
			f, err := os.Create(path)
			if err == nil {
				err = pprof.Lookup("allocs").WriteTo(f, 0)
				err = cmp.Or(err, f.Close())
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "swarm: memory profile:", err)
			}
		})
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}
