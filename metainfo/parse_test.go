package metainfo

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixtureHashes reads ../testdata/fixtures.txt: "file info-hash tool" lines, where the hash is
// what the tool itself printed for the torrent.
func fixtureHashes(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open("../testdata/fixtures.txt")
	require.NoError(t, err)
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && !strings.HasPrefix(fields[0], "#") {
			out[fields[0]] = append(out[fields[0]], fields[1])
		}
	}
	require.NoError(t, sc.Err())
	return out
}

func TestParseToolFixtures(t *testing.T) {
	hashes := fixtureHashes(t)
	require.Len(t, hashes, 7)
	for file, want := range hashes {
		t.Run(file, func(t *testing.T) {
			m, err := Load(filepath.Join("../testdata", file))
			require.NoError(t, err)
			for _, h := range want {
				assert.Equal(t, h, m.InfoHash.String())
			}
			checkParsed(t, mustRead(t, filepath.Join("../testdata", file)), m)
			assert.Equal(t, []string{"http://127.0.0.1:6969/announce"}, m.Trackers()[0][:1])
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

func TestParseMktorrentMulti(t *testing.T) {
	m, err := Load("../testdata/mktorrent-multi.torrent")
	require.NoError(t, err)
	assert.Equal(t, "multi", m.Info.Name)
	assert.True(t, m.Info.Private)
	assert.Equal(t, "swarm-test", m.Info.Source)
	assert.Equal(t, "nested folder, odd sizes", m.Comment)
	assert.Equal(t, []string{"http://127.0.0.1:8080/"}, m.URLList)
	assert.Equal(t, int64(32768), m.Info.PieceLength)
	assert.Equal(t, [][]string{
		{"http://127.0.0.1:6969/announce", "http://127.0.0.2:6969/announce"},
		{"http://127.0.0.3:6969/announce"},
	}, m.Trackers())
	want := []FileEntry{
		{Path: "multi/.hidden", Length: 5, Offset: 0},
		{Path: "multi/a-b/z.txt", Length: 4097, Offset: 5},
		{Path: "multi/a/b/c/x.bin", Length: 100003, Offset: 4102},
		{Path: "multi/a/b/y.bin", Length: 17, Offset: 104105},
		{Path: "multi/empty.dat", Length: 0, Offset: 104122},
		{Path: "multi/zz/last.bin", Length: 65537, Offset: 104122},
	}
	assert.Equal(t, want, m.Info.FileEntries())
	assert.Equal(t, 6, m.Info.NumPieces())
	assert.Equal(t, int64(169659-5*32768), m.Info.PieceSize(5))
}

func TestParseTransmissionQuirks(t *testing.T) {
	m, err := Load("../testdata/transmission-multi.torrent")
	require.NoError(t, err)
	assert.True(t, m.Info.Private)
	assert.Len(t, m.Info.Files, 4, "transmission-create leaves the 0-byte and the hidden file out")
	pub, err := Load("../testdata/transmission-single.torrent")
	require.NoError(t, err)
	assert.False(t, pub.Info.Private, "private: 0 means public")
	assert.Contains(t, string(pub.InfoBytes), "7:privatei0e")
}

func TestParseExtraKeysKeepHash(t *testing.T) {
	data := mustRead(t, "../testdata/extra-keys.torrent")
	m, err := Parse(data)
	require.NoError(t, err)
	assert.Equal(t, fixtureHashes(t)["extra-keys.torrent"][0], m.InfoHash.String())
	assert.Contains(t, string(m.InfoBytes), "8:x-custom")
	assert.Equal(t, []string{"encoding", "zz-unknown"}, sortedKeys(m.Extra))
	out, err := m.Marshal()
	require.NoError(t, err)
	back, err := Parse(out)
	require.NoError(t, err)
	assert.Equal(t, m.InfoHash, back.InfoHash)
	assert.Equal(t, m.Extra, back.Extra)
	assert.Contains(t, string(out), string(m.InfoBytes), "info written verbatim, unknown keys and all")
}

func TestParseMalformed(t *testing.T) {
	tests := []struct {
		file     string
		sentinel error
		msg      string
	}{
		{"traversal", ErrUnsafePath, `info.files[0].path[0]: path component ".." is not allowed`},
		{"abs-path", ErrUnsafePath, `info.files[0].path[0]: path component "/etc" contains a separator`},
		{"backslash", ErrUnsafePath, `info.files[0].path[0]: path component "..\\evil.exe" contains a separator`},
		{"name-dotdot", ErrUnsafePath, `info.name: path component ".." is not allowed`},
		{"empty-path", ErrUnsafePath, "info.files[0].path: empty path"},
		{"duplicate-path", ErrUnsafePath, "info.files[1].path: duplicates info.files[0]"},
		{"file-and-folder", ErrUnsafePath, "info.files[1].path: is inside info.files[0], which is a file"},
		{"bad-pieces-length", ErrPieces, "info.pieces: length 41 is not a multiple of 20"},
		{"pieces-count", ErrPieces, "info.pieces: 3 hashes for 40000 bytes in pieces of 32768 (want 2)"},
		{"negative-length", ErrInvalid, "info.length: negative (-1)"},
		{"negative-file-length", ErrInvalid, "info.files[0].length: negative (-5)"},
		{"length-overflow", ErrInvalid, "info.files[1].length: total length overflows"},
		{"int-too-big", ErrInvalid, `info.length: bad integer "99999999999999999999"`},
		{"zero-piece-length", ErrInvalid, "info.piece length: 0 out of range"},
		{"huge-piece-length", ErrInvalid, "info.piece length: 268435456 out of range"},
		{"both-length-files", ErrInvalid, "info: has both length and files"},
		{"no-length-or-files", ErrMissing, "info: has neither length nor files"},
		{"empty-files", ErrInvalid, "info.files: empty list"},
		{"name-not-string", ErrInvalid, "info.name: not a string"},
		{"info-not-dict", ErrInvalid, "info: not a dictionary"},
		{"no-info", ErrMissing, "info: missing"},
		{"not-a-dict", ErrInvalid, "torrent: not a dictionary"},
		{"truncated", ErrSyntax, "unexpected EOF"},
		{"trailing-data", ErrSyntax, "7 bytes of trailing data"},
		{"no-pieces", ErrEmpty, "info.length: 0 bytes: the torrent holds no data to share"},
		{"only-empty-files", ErrEmpty, "info.files: 2 files of 0 bytes: the torrent holds no data to share"},
		{"duplicate-name", ErrInvalid, `info: duplicate key "name"`},
		{"unsorted-keys", ErrInvalid, `info: keys not in sorted order: "length" after "name"`},
	}
	files, err := filepath.Glob("../testdata/malformed/*.torrent")
	require.NoError(t, err)
	require.Len(t, files, len(tests), "every malformed fixture has a case")
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := Parse(mustRead(t, "../testdata/malformed/"+tt.file+".torrent"))
			require.ErrorIs(t, err, tt.sentinel)
			assert.Contains(t, err.Error(), tt.msg)
			assert.False(t, seen[err.Error()], "error shared with another fixture")
			seen[err.Error()] = true
		})
	}
}

func TestParseCaps(t *testing.T) {
	_, err := Parse(make([]byte, MaxSize+1))
	require.ErrorIs(t, err, ErrTooLarge)

	big := filepath.Join(t.TempDir(), "big.torrent")
	require.NoError(t, os.WriteFile(big, nil, 0o644))
	require.NoError(t, os.Truncate(big, MaxSize+1))
	_, err = Load(big)
	require.ErrorIs(t, err, ErrTooLarge)

	deep := "d4:infod5:filesld6:lengthi1e4:pathl" + strings.Repeat("1:a", maxPathComponents+1) + "eee4:name1:x12:piece lengthi1e6:pieces20:" + strings.Repeat("x", 20) + "ee"
	_, err = Parse([]byte(deep))
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Contains(t, err.Error(), "info.files[0].path: more than 1024 entries")
}

func TestParseOptionalFields(t *testing.T) {
	info := "d6:lengthi1e4:name1:x12:piece lengthi16384e6:pieces20:" + strings.Repeat("h", 20) + "e"
	tests := []struct {
		name, top string
		check     func(t *testing.T, m *MetaInfo)
		errMsg    string
	}{
		{"url-list string", "8:url-list9:http://ws", func(t *testing.T, m *MetaInfo) {
			assert.Equal(t, []string{"http://ws"}, m.URLList)
		}, ""},
		{"creation date", "13:creation datei1700000000e", func(t *testing.T, m *MetaInfo) {
			assert.Equal(t, int64(1700000000), m.CreationDate)
		}, ""},
		{"announce only", "8:announce8:http://a", func(t *testing.T, m *MetaInfo) {
			assert.Equal(t, [][]string{{"http://a"}}, m.Trackers())
		}, ""},
		{"empty tiers fall back to announce", "8:announce8:http://a13:announce-listll0:ee", func(t *testing.T, m *MetaInfo) {
			assert.Equal(t, [][]string{{"http://a"}}, m.Trackers())
		}, ""},
		{"announce not string", "8:announcei1e", nil, "announce: not a string"},
		{"tier not list", "13:announce-listl1:ae", nil, "announce-list[0]: not a list"},
		{"date not int", "13:creation date1:x", nil, "creation date: not an integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse([]byte("d" + tt.top + "4:info" + info + "e"))
			if tt.errMsg != "" {
				require.ErrorIs(t, err, ErrInvalid)
				assert.Contains(t, err.Error(), tt.errMsg)
				return
			}
			require.NoError(t, err)
			tt.check(t, m)
		})
	}
}
