package metainfo

import (
	"bytes"
	"crypto/sha1"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// addFixtures seeds a fuzz target with every fixture torrent, valid and malformed.
func addFixtures(f *testing.F) {
	paths, err := filepath.Glob("../testdata/*.torrent")
	require.NoError(f, err)
	bad, err := filepath.Glob("../testdata/malformed/*.torrent")
	require.NoError(f, err)
	for _, p := range append(paths, bad...) {
		data, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add(data)
	}
}

// FuzzParse checks that Parse never panics, that it fails only with the package's own errors,
// and that whatever it accepts is safe and survives a Marshal/Parse round trip unchanged.
func FuzzParse(f *testing.F) {
	addFixtures(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(data)
		if err != nil {
			if !isOwnError(err) {
				t.Fatalf("foreign error: %v", err)
			}
			return
		}
		checkParsed(t, data, m)
		out, err := m.Marshal()
		require.NoError(t, err)
		back, err := Parse(out)
		require.NoError(t, err)
		assert.Equal(t, m.InfoHash, back.InfoHash)
		assert.Equal(t, m.Info, back.Info)
		assert.Equal(t, m.Trackers(), back.Trackers())
		assert.Equal(t, len(m.Extra), len(back.Extra))
	})
}

func isOwnError(err error) bool {
	if _, ok := errors.AsType[*FieldError](err); ok {
		return true
	}
	return errors.Is(err, ErrSyntax) || errors.Is(err, ErrTooLarge)
}

// checkParsed asserts the invariants every accepted torrent must hold.
func checkParsed(t *testing.T, data []byte, m *MetaInfo) {
	t.Helper()
	assert.Equal(t, Hash(sha1.Sum(m.InfoBytes)), m.InfoHash)
	assert.True(t, bytes.Contains(data, m.InfoBytes), "info bytes are not a slice of the input")
	var sum int64
	for _, e := range m.Info.FileEntries() {
		assert.True(t, filepath.IsLocal(e.Path), "unsafe path %q", e.Path)
		assert.Equal(t, sum, e.Offset)
		sum += e.Length
	}
	assert.Equal(t, m.Info.TotalLength(), sum)
	n := m.Info.NumPieces()
	if n > 0 {
		assert.Positive(t, m.Info.PieceSize(n-1))
		assert.Equal(t, sum, int64(n-1)*m.Info.PieceLength+m.Info.PieceSize(n-1))
	}
}

// FuzzParseMagnet checks that ParseMagnet never panics and that a parsed link re-encodes to
// one that parses to the same value.
func FuzzParseMagnet(f *testing.F) {
	for _, s := range []string{
		"magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=x&tr=http%3A%2F%2Ft%2Fa",
		"magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK",
		"magnet:?xt=urn:btmh:1220abcd&xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&ws=http://w&x.pe=1.2.3.4:5",
		"magnet:?dn=%zz", "http://x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		mg, err := ParseMagnet(s)
		if err != nil {
			require.ErrorIs(t, err, ErrMagnet)
			return
		}
		back, err := ParseMagnet(mg.String())
		require.NoError(t, err)
		assert.Equal(t, mg, back)
	})
}
