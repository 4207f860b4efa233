package interop

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
)

// env is what TestMain prepares once for every case.
var env struct {
	root     string // module root
	work     string // package-wide temp folder
	swarm    string // path of the built swarm binary
	buildErr error
	payloads []*payload
}

// minParallel is how many cases run at once at least: the work happens in child processes
// that mostly wait on each other (Transmission's 10 s choke round), so GOMAXPROCS (the
// default of -parallel) would leave the machine idle.
const minParallel = 8

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	raiseParallel()
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		code = 1
	}
	os.Exit(code)
}

// raiseParallel lifts -parallel to minParallel unless it was given on the command line.
func raiseParallel() {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set && runtime.GOMAXPROCS(0) < minParallel {
		_ = flag.Set("test.parallel", strconv.Itoa(minParallel))
	}
}

func setup(m *testing.M) (int, error) {
	root, err := filepath.Abs("..")
	if err != nil {
		return 1, fmt.Errorf("module root: %w", err)
	}
	work, err := os.MkdirTemp("", "swarm-interop-")
	if err != nil {
		return 1, fmt.Errorf("temp folder: %w", err)
	}
	defer os.RemoveAll(work)
	env.root, env.work = root, work
	env.swarm, env.buildErr = buildSwarm(root, work)
	if env.payloads, err = makePayloads(filepath.Join(work, "payloads")); err != nil {
		return 1, err
	}
	return m.Run(), nil
}

// buildSwarm builds ./cmd/swarm into work, or takes the binary SWARM_BIN names (to test a
// build made elsewhere).
func buildSwarm(root, work string) (string, error) {
	if bin := os.Getenv("SWARM_BIN"); bin != "" {
		return filepath.Abs(bin)
	}
	bin := filepath.Join(work, "bin", "swarm")
	build := exec.Command("go", "build", "-o", bin, "./cmd/swarm")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/swarm: %w\n%s", err, out)
	}
	return bin, nil
}

// interopOnly skips a test under -short: interop tests drive real clients.
func interopOnly(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("interop tests drive real clients; skipped under -short")
	}
}

// start marks a case as an interop case: skipped under -short, run in parallel.
func start(t *testing.T) {
	t.Helper()
	interopOnly(t)
	t.Parallel()
}
