package interop

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/swarm-bt/swarm/internal/testenv"
)

// tool is an external program the harness needs, with a check that it works.
type tool struct {
	name  string
	check []string // a command that succeeds when the tool is usable
	once  sync.Once
	err   error
}

// systemPython is the interpreter python3-libtorrent is installed for; a python3 earlier on
// PATH (pyenv, venvs) usually cannot import it.
const systemPython = "/usr/bin/python3"

var (
	toolMktorrent    = &tool{name: "mktorrent", check: []string{"mktorrent", "-h"}}
	toolAria2        = &tool{name: "aria2c", check: []string{"aria2c", "--version"}}
	toolOpentracker  = &tool{name: "opentracker", check: []string{"sh", "-c", "command -v opentracker"}}
	toolTransmission = &tool{name: "transmission-daemon", check: []string{"sh", "-c",
		"command -v transmission-daemon && command -v transmission-remote"}}
	toolTransmissionCreate = &tool{name: "transmission-create", check: []string{"sh", "-c",
		"command -v transmission-create && command -v transmission-show"}}
	toolLibtorrent = &tool{name: "python3-libtorrent", check: []string{systemPython, "-c", "import libtorrent"}}
)

// need skips the test when a tool is missing, or fails it when SWARM_INTEROP=1.
func need(t *testing.T, tl *tool) {
	t.Helper()
	tl.once.Do(func() {
		tl.err = exec.Command(tl.check[0], tl.check[1:]...).Run()
	})
	if tl.err != nil {
		testenv.MissingTool(t, tl.name, tl.err)
	}
}

// needSwarm fails the test when the swarm binary did not build: it is the program under test,
// so that is never a skip.
func needSwarm(t *testing.T) {
	t.Helper()
	sourcesOnce.Do(statSources)
	if env.buildErr != nil {
		t.Fatal(env.buildErr)
	}
}

var sourcesOnce sync.Once

// statSources stats every Go source of the module (or the SWARM_BIN binary). The go command
// caches test results keyed on the files a test consults, and the swarm binary is built by a
// child process it cannot see: without this, `go test` would replay an interop result after
// the engine changed. It must run inside a test: files touched before m.Run are not recorded.
func statSources() {
	if bin := os.Getenv("SWARM_BIN"); bin != "" {
		_, _ = os.Stat(bin)
		return
	}
	_ = filepath.WalkDir(env.root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		name := d.Name()
		if d.IsDir() && path != env.root && (strings.HasPrefix(name, ".") || name == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(name, ".go") || name == "go.mod" || name == "go.sum") {
			_, _ = os.Stat(path)
		}
		return nil
	})
}
