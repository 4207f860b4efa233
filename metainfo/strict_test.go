package metainfo

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// manyFiles is a valid torrent of n one-byte files in one piece per 16 KiB.
func manyFiles(n int) []byte {
	var sb strings.Builder
	sb.WriteString("d4:infod5:filesl")
	for i := range n {
		p := fmt.Sprintf("f%d", i)
		fmt.Fprintf(&sb, "d6:lengthi1e4:pathl%d:%see", len(p), p)
	}
	pieces := (n + 16383) / 16384
	fmt.Fprintf(&sb, "e4:name1:x12:piece lengthi16384e6:pieces%d:%see", 20*pieces, strings.Repeat("h", 20*pieces))
	return []byte(sb.String())
}

func TestParseFileCountCapMatchesLibtorrent(t *testing.T) {
	// libtorrent 2.0.8 refuses 380,000 such files (its bdecode token limit); the issue's
	// hostile torrent had 1,000,000.
	for _, n := range []int{380_000, 1_000_000} {
		_, err := Parse(manyFiles(n))
		require.ErrorIs(t, err, ErrTooLarge, "%d files", n)
		assert.Contains(t, err.Error(), fmt.Sprintf("info.files: more than %d entries", MaxFiles))
	}
	m, err := Parse(manyFiles(1000))
	require.NoError(t, err)
	assert.Len(t, m.Info.Files, 1000)
}

func TestParsePieceCountCapMatchesLibtorrent(t *testing.T) {
	n := maxPieces + 1
	data := fmt.Sprintf("d4:infod6:lengthi%de4:name1:x12:piece lengthi16384e6:pieces%d:%see", int64(n)*16384, 20*n, strings.Repeat("h", 20*n))
	_, err := Parse([]byte(data))
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Contains(t, err.Error(), fmt.Sprintf("info.pieces: %d pieces, limit %d", n, maxPieces))
}

func TestCheckKeyOrder(t *testing.T) {
	tests := []struct {
		name, dict, err string
	}{
		{"sorted", "d1:ai1e1:bi2ee", ""},
		{"empty", "de", ""},
		{"bytewise", "d1:Bi1e1:ai2ee", ""}, // 'B' < 'a' in bytes
		{"prefix first", "d1:ai1e2:aai2ee", ""},
		{"duplicate", "d1:ai1e1:ai2ee", `duplicate key "a"`},
		{"unsorted", "d1:bi1e1:ai2ee", `keys not in sorted order: "a" after "b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkKeyOrder([]byte(tt.dict), "info")
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalid)
			assert.Contains(t, err.Error(), tt.err)
		})
	}
}
