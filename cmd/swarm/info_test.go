package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInfoCommandText(t *testing.T) {
	stdout, _, err := runCmd(t, "info", "../../testdata/mktorrent-multi.torrent")
	require.NoError(t, err)
	want := `Name:        multi
Info-hash:   b4d096c8542b6ae5879d265651bc859bfbb647de
Size:        165.7 KiB (169659 bytes)
Pieces:      6 of 32 KiB
Private:     yes
Source:      swarm-test
Comment:     nested folder, odd sizes
Created by:  mktorrent 1.1
Trackers:
  tier 1: http://127.0.0.1:6969/announce http://127.0.0.2:6969/announce
  tier 2: http://127.0.0.3:6969/announce
Web seeds:
  http://127.0.0.1:8080/
Files (6):
         5 B  multi/.hidden
     4.0 KiB  multi/a-b/z.txt
    97.7 KiB  multi/a/b/c/x.bin
        17 B  multi/a/b/y.bin
         0 B  multi/empty.dat
    64.0 KiB  multi/zz/last.bin
Magnet: magnet:?xt=urn:btih:b4d096c8542b6ae5879d265651bc859bfbb647de&dn=multi&tr=http%3A%2F%2F127.0.0.1%3A6969%2Fannounce&tr=http%3A%2F%2F127.0.0.2%3A6969%2Fannounce&tr=http%3A%2F%2F127.0.0.3%3A6969%2Fannounce&ws=http%3A%2F%2F127.0.0.1%3A8080%2F
`
	assert.Equal(t, want, stdout)
}

func TestInfoCommandJSON(t *testing.T) {
	stdout, _, err := runCmd(t, "info", "--json", "../../testdata/transmission-single.torrent")
	require.NoError(t, err)
	var v infoJSON
	require.NoError(t, json.Unmarshal([]byte(stdout), &v))
	assert.Equal(t, "single.bin", v.Name)
	assert.Equal(t, "91e117deed6b93144aaf259693648038597fce6f", v.InfoHash)
	assert.Equal(t, int64(300001), v.Size)
	assert.Equal(t, int64(32768), v.PieceLength)
	assert.Equal(t, 10, v.Pieces)
	assert.False(t, v.Private)
	assert.Equal(t, [][]string{{"http://127.0.0.1:6969/announce"}}, v.Trackers)
	assert.Equal(t, []infoFileJSON{{Path: "single.bin", Length: 300001}}, v.Files)
	assert.Contains(t, v.Magnet, "xt=urn:btih:91e117deed6b93144aaf259693648038597fce6f&dn=single.bin")
	assert.NotZero(t, v.CreationDate)
}

func TestInfoCommandErrors(t *testing.T) {
	tests := []struct{ file, msg string }{
		{"../../testdata/malformed/traversal.torrent", `info.files[0].path[0]: path component ".." is not allowed`},
		{"../../testdata/malformed/truncated.torrent", "malformed bencode"},
		{"../../testdata/missing.torrent", "no such file or directory"},
	}
	for _, tt := range tests {
		_, _, err := runCmd(t, "info", tt.file)
		require.Error(t, err)
		assert.Contains(t, err.Error(), tt.msg)
		assert.Contains(t, err.Error(), "load torrent")
	}
}

func TestInfoFormatSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{{0, "0 B"}, {1023, "1023 B"}, {1024, "1 KiB"}, {1536, "1.5 KiB"}, {256 << 10, "256 KiB"}, {1 << 30, "1 GiB"}, {5 << 60, "5 EiB"}}
	for _, tt := range tests {
		assert.Equal(t, tt.want, humanBytes(tt.n))
	}
}

func TestInfoCommandMagnet(t *testing.T) {
	link := "magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK&dn=My+File&tr=http%3A%2F%2F127.0.0.1%3A6969%2Fannounce&x.pe=127.0.0.1:6881"
	stdout, _, err := runCmd(t, "info", link)
	require.NoError(t, err)
	want := `Magnet link (the info dictionary is fetched from peers)
Name:       My File
Info-hash:  c12fe1c06bba254a9dc9f519b335aa7c1367a88a
Trackers:
  http://127.0.0.1:6969/announce
Peers:
  127.0.0.1:6881
Magnet: magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=My+File&tr=http%3A%2F%2F127.0.0.1%3A6969%2Fannounce&x.pe=127.0.0.1%3A6881
`
	assert.Equal(t, want, stdout)

	stdout, _, err = runCmd(t, "info", "--json", link)
	require.NoError(t, err)
	var v magnetJSON
	require.NoError(t, json.Unmarshal([]byte(stdout), &v))
	assert.Equal(t, "c12fe1c06bba254a9dc9f519b335aa7c1367a88a", v.InfoHash)
	assert.Equal(t, []string{"127.0.0.1:6881"}, v.Peers)

	_, _, err = runCmd(t, "info", "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&x.pe=127.0.0.1")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `x.pe "127.0.0.1"`)
	_, _, err = runCmd(t, "info", "magnet:?xt=urn:btmh:1220aabb")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "v2")
}
