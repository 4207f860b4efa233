// Package metainfo parses, validates and creates .torrent files (BEP 3, 12, 19, 27) and magnet
// links (BEP 9). It knows nothing about networks: the peer and tracker packages build on it.
package metainfo

import (
	"encoding/hex"
	"fmt"
	"log/slog"

	"github.com/anacrolix/torrent/bencode"
)

// HashSize is the length of a SHA-1 digest: an info-hash or one piece hash.
const HashSize = 20

// Hash is a 20-byte SHA-1 info-hash (BEP 3). Its zero value is not a valid torrent.
type Hash [HashSize]byte

// String returns the lower-case hex form, as clients print it.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// LogValue makes slog print the hex form.
func (h Hash) LogValue() slog.Value { return slog.StringValue(h.String()) }

// HashFromHex parses a 40-character hex info-hash.
func HashFromHex(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*HashSize {
		return h, fmt.Errorf("info-hash %q: want 40 hex characters, got %d", s, len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("info-hash %q: %w", s, err)
	}
	return h, nil
}

// MetaInfo is a parsed .torrent file.
type MetaInfo struct {
	// Announce is the single tracker URL of BEP 3.
	Announce string
	// AnnounceList holds the BEP 12 tiers, when present.
	AnnounceList [][]string
	Comment      string
	CreatedBy    string
	// CreationDate is seconds since the Unix epoch; 0 when absent.
	CreationDate int64
	// URLList holds BEP 19 web seeds; kept, not used yet.
	URLList []string

	Info Info
	// InfoHash is the SHA-1 of InfoBytes: the info dictionary exactly as it appears in the
	// file, never a re-encoding.
	InfoHash Hash
	// InfoBytes is the raw bencoded info dictionary.
	InfoBytes []byte
	// Extra holds top-level keys this package does not know, raw, so that a round trip keeps
	// them.
	Extra map[string]bencode.Bytes
}

// Info is the info dictionary.
type Info struct {
	Name        string
	PieceLength int64
	// Pieces is the concatenation of the 20-byte SHA-1 hashes of all pieces.
	Pieces []byte
	// Length is the payload size of a single-file torrent; 0 for multi-file.
	Length int64
	// Files lists the files of a multi-file torrent in torrent order; nil for single-file.
	Files []File
	// Private is the BEP 27 flag.
	Private bool
	// Source is the optional "source" key that private trackers use to make hashes unique.
	Source string
}

// File is one entry of a multi-file torrent.
type File struct {
	Length int64
	// Path holds the components below the torrent's name folder, each validated.
	Path []string
}
