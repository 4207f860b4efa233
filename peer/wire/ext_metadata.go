package wire

import (
	"fmt"

	"github.com/anacrolix/torrent/bencode"
)

// MetadataPieceSize is the size of every ut_metadata piece but the last (BEP 9).
const MetadataPieceSize = 16 << 10

// MaxMetadataSize caps the info dictionary we fetch or accept in an extension handshake: a
// torrent of a million files has about 64 MiB of metadata, and libtorrent trusts only 4 MiB.
const MaxMetadataSize = 64 << 20

// ut_metadata message types (BEP 9).
const (
	MetadataRequest = 0
	MetadataData    = 1
	MetadataReject  = 2
)

// MetadataMsg is a ut_metadata message: a bencoded dictionary, followed in a data message by
// the piece's raw bytes.
type MetadataMsg struct {
	Type      int   // MetadataRequest, MetadataData or MetadataReject
	Piece     int   // the piece index
	TotalSize int64 // data: the whole info dictionary's size
	Data      []byte
}

// Marshal encodes m.
func (m MetadataMsg) Marshal() []byte {
	d := map[string]int64{"msg_type": int64(m.Type), "piece": int64(m.Piece)}
	if m.Type == MetadataData {
		d["total_size"] = m.TotalSize
	}
	b, err := bencode.Marshal(d)
	if err != nil {
		panic(fmt.Sprintf("wire: marshal ut_metadata: %v", err)) // only ints
	}
	if m.Type == MetadataData {
		b = append(b, m.Data...)
	}
	return b
}

// ParseMetadataMsg decodes a ut_metadata payload. It checks the message type, that the piece
// index is one of a metadata of MaxMetadataSize, that only a data message carries bytes after
// the dictionary, and at most MetadataPieceSize of them; total_size must be positive and at
// most MaxMetadataSize (the caller checks it against the size it knows). Data aliases b.
func ParseMetadataMsg(b []byte) (MetadataMsg, error) {
	var m MetadataMsg
	d, n, err := decodeExtDictN(b, false)
	if err != nil {
		return m, fmt.Errorf("ut_metadata: %w", err)
	}
	t, ok := extInt(d["msg_type"])
	if !ok || t < MetadataRequest || t > MetadataReject {
		return m, fmt.Errorf("%w: ut_metadata: bad msg_type", ErrExtension)
	}
	piece, ok := extInt(d["piece"])
	if !ok || piece < 0 || piece >= MaxMetadataSize/MetadataPieceSize {
		return m, fmt.Errorf("%w: ut_metadata: bad piece", ErrExtension)
	}
	m.Type, m.Piece = int(t), int(piece)
	rest := b[n:]
	if m.Type != MetadataData {
		if len(rest) > 0 {
			return m, fmt.Errorf("%w: ut_metadata: %d bytes after a %s", ErrExtension, len(rest), metadataTypeName(m.Type))
		}
		return m, nil
	}
	if m.TotalSize, ok = extInt(d["total_size"]); !ok || m.TotalSize <= 0 || m.TotalSize > MaxMetadataSize {
		return m, fmt.Errorf("%w: ut_metadata: bad total_size", ErrExtension)
	}
	if len(rest) == 0 || len(rest) > MetadataPieceSize {
		return m, fmt.Errorf("%w: ut_metadata: piece of %d bytes, want 1 to %d", ErrExtension, len(rest), MetadataPieceSize)
	}
	m.Data = rest
	return m, nil
}

func metadataTypeName(t int) string {
	switch t {
	case MetadataRequest:
		return "request"
	case MetadataData:
		return "data"
	default:
		return "reject"
	}
}

// MetadataPieces is the number of ut_metadata pieces of an info dictionary of size bytes.
func MetadataPieces(size int64) int {
	return int((size + MetadataPieceSize - 1) / MetadataPieceSize)
}
