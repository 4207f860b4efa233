package storage

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestNowaitRead: a read of cached data goes through the nowait path with the right bytes;
// too many buffers, none, or a read at the file's end are left to the blocking call.
func TestNowaitRead(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	require.NoError(t, err)
	defer f.Close()
	fd := int(f.Fd())
	a, b := bytes.Repeat([]byte{1}, 5000), bytes.Repeat([]byte{2}, 3000)

	_, err = unix.Pwritev(fd, [][]byte{a, b}, 100)
	require.NoError(t, err)
	ra, rb := make([]byte, 5000), make([]byte, 3000)
	n, ok := nowaitRead(fd, [][]byte{ra, rb}, 100) // just written: cached
	require.True(t, ok, "a read of cached data")
	assert.Equal(t, 8000, n)
	assert.Equal(t, a, ra)
	assert.Equal(t, b, rb)

	_, ok = nowaitRead(fd, [][]byte{ra}, 8100)
	assert.False(t, ok, "at the file's end")
	_, ok = nowaitRead(fd, nil, 0)
	assert.False(t, ok, "no buffers")
	many := make([][]byte, maxNowaitIov+1)
	for i := range many {
		many[i] = make([]byte, 1)
	}
	_, ok = nowaitRead(fd, many, 0)
	assert.False(t, ok, "more buffers than the stack array")
}
