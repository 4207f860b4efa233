package main

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Regression tests for what a new user tripped over (issue 18).

// TestGetInterruptedLeavesNoEmptyFiles: a get stopped before any data arrived leaves the
// download folder as it found it (regression: 0-byte files were left behind).
func TestGetInterruptedLeavesNoEmptyFiles(t *testing.T) {
	announce := startTestTracker(t)
	tpath, _ := writeTorrent(t, t.TempDir(), "nothing-yet.bin", 100<<10, announce)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	var out bytes.Buffer
	// Whenever the deadline lands (in the check under load, or while the swarm waits for
	// peers), the content was opened: that is where the files used to be made.
	err := run(ctx, []string{"get", tpath, "-d", dir, "--port", "0", "--bind", "127.0.0.1", "-q"}, &out, &out)
	require.Error(t, err)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "files left by an interrupted get")
}
