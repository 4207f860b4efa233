package interop

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anacrolix/torrent/bencode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// torrentFile is what the harness reads from a .torrent, independently of swarm's metainfo.
type torrentFile struct {
	Path     string
	InfoHash string // hex of the SHA-1 of the raw info dictionary
	Name     string
	Files    []payloadFile
}

type rawTorrent struct {
	Info bencode.Bytes `bencode:"info"`
}

type infoDict struct {
	Name   string `bencode:"name"`
	Length int64  `bencode:"length"`
	Files  []struct {
		Length int64    `bencode:"length"`
		Path   []string `bencode:"path"`
	} `bencode:"files"`
}

// readTorrent parses a .torrent file and hashes its raw info bytes.
func readTorrent(t *testing.T, path string) *torrentFile {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var raw rawTorrent
	require.NoError(t, bencode.Unmarshal(data, &raw), "decode %s", path)
	var info infoDict
	require.NoError(t, bencode.Unmarshal(raw.Info, &info), "decode info of %s", path)
	sum := sha1.Sum(raw.Info)
	tf := &torrentFile{Path: path, InfoHash: hex.EncodeToString(sum[:]), Name: info.Name}
	if info.Files == nil {
		tf.Files = []payloadFile{{"", info.Length}}
	}
	for _, f := range info.Files {
		tf.Files = append(tf.Files, payloadFile{strings.Join(f.Path, "/"), f.Length})
	}
	return tf
}

// mktorrent makes a torrent of p announcing to url, with the harness's piece length.
func mktorrent(t *testing.T, ctx context.Context, p *payload, url string) *torrentFile {
	t.Helper()
	need(t, toolMktorrent)
	out := filepath.Join(t.TempDir(), p.Label+".torrent")
	_, err := run(ctx, "mktorrent", "-d", "-l", "16", "-a", url, "-o", out, p.Root())
	require.NoError(t, err)
	return readTorrent(t, out)
}

// verifyDownload checks the sha256 of every file of the torrent under dst against the payload
// under src. skipEmpty leaves out 0-byte files (Transmission does not create them).
func verifyDownload(t *testing.T, tf *torrentFile, src, dst string, skipEmpty bool) {
	t.Helper()
	for _, f := range tf.Files {
		if f.Size == 0 && skipEmpty {
			continue
		}
		rel := filepath.Join(tf.Name, filepath.FromSlash(f.Path))
		want, err := fileSHA256(filepath.Join(src, rel))
		require.NoError(t, err, "source file")
		got, err := fileSHA256(filepath.Join(dst, rel))
		if !assert.NoError(t, err, "downloaded file %s", rel) {
			continue
		}
		assert.Equal(t, want, got, "sha256 of %s", rel)
	}
}

// announceURL is the announce URL of an HTTP tracker at addr.
func announceURL(addr string) string { return fmt.Sprintf("http://%s/announce", addr) }
