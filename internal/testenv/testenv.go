// Package testenv decides, for tests, what happens when something a test needs is missing on
// the machine: a reference program (mktorrent, opentracker, ...) or a capability (mounting a
// tmpfs, ...). Without the matching environment variable the test skips; in CI (`.ci/run`)
// the variable is set and the same absence fails the test, so a skip never hides there:
//
//   - SWARM_INTEROP=1: a missing reference program is a failure;
//   - SWARM_STRICT=1: a missing capability is a failure.
//
// It is imported by _test.go files only.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// Interop reports whether a missing reference program must fail the test (SWARM_INTEROP=1).
func Interop() bool { return os.Getenv("SWARM_INTEROP") == "1" }

// Strict reports whether a missing capability must fail the test (SWARM_STRICT=1).
func Strict() bool { return os.Getenv("SWARM_STRICT") == "1" }

// MissingTool skips t because the reference program name is unusable (err says why), or fails
// it under SWARM_INTEROP=1.
func MissingTool(t testing.TB, name string, err error) {
	t.Helper()
	if Interop() {
		t.Fatalf("%s is not usable (%v) and SWARM_INTEROP=1", name, err)
	}
	t.Skipf("%s is not usable (%v); set SWARM_INTEROP=1 to fail instead", name, err)
}

// MissingCapability skips t because the machine cannot do what (such as "mount a tmpfs"),
// or fails it under SWARM_STRICT=1.
func MissingCapability(t testing.TB, what string, err error) {
	t.Helper()
	if Strict() {
		t.Fatalf("cannot %s (%v) and SWARM_STRICT=1", what, err)
	}
	t.Skipf("cannot %s (%v); set SWARM_STRICT=1 to fail instead", what, err)
}

// NeedTools returns the paths of the named programs found on PATH, in order; a missing one
// goes to MissingTool.
func NeedTools(t testing.TB, names ...string) []string {
	t.Helper()
	paths := make([]string, len(names))
	for i, name := range names {
		p, err := exec.LookPath(name)
		if err != nil {
			MissingTool(t, name, err)
		}
		paths[i] = p
	}
	return paths
}

// SystemPython is the interpreter python3-libtorrent is installed for on Debian; a python3
// earlier on PATH (pyenv, venvs) usually cannot import it.
const SystemPython = "/usr/bin/python3"

// NeedLibtorrent checks that SystemPython can import libtorrent; otherwise MissingTool.
func NeedLibtorrent(t testing.TB) {
	t.Helper()
	if out, err := exec.Command(SystemPython, "-c", "import libtorrent").CombinedOutput(); err != nil {
		MissingTool(t, "python3-libtorrent", fmt.Errorf("%w: %s", err, out))
	}
}

// Tmpfs mounts a tmpfs of size (mount's syntax: "1m", "2m") on a new temporary folder and
// returns the folder; it is unmounted when the test ends. It needs root: where mount fails,
// the test goes to MissingCapability.
func Tmpfs(t testing.TB, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		MissingCapability(t, "mount a tmpfs (needs root)", fmt.Errorf("%w: %s", err, out))
	}
	// Registered after TempDir's own cleanup, so it runs first: the folder is unmounted
	// before it is removed. -l: a file still open by the code under test must not keep the
	// mount busy.
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

// Remount changes the options of a tmpfs made by Tmpfs (such as "size=8m" or "ro") and
// fails the test when that does not work: the mount itself worked, so this is no missing
// capability.
func Remount(t testing.TB, dir, options string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,"+options, dir).CombinedOutput(); err != nil {
		t.Fatalf("remount %s with %s: %v: %s", dir, options, err, out)
	}
}
