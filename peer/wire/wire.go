// Package wire is the BitTorrent peer wire protocol codec (BEP 3): the handshake and the
// length-prefixed messages, with hard size limits checked before anything is allocated.
package wire

import "errors"

// Protocol is the handshake's protocol string.
const Protocol = "BitTorrent protocol"

// HandshakeLen is the size of a handshake on the wire.
const HandshakeLen = 1 + len(Protocol) + 8 + 20 + 20

// BlockSize is the size of the blocks we request, and the largest request we serve.
const BlockSize = 16 << 10

// Reserved is the handshake's eight reserved bytes.
type Reserved [8]byte

// Reserved bits we know of.
const (
	ExtensionByte, ExtensionBit = 5, 0x10 // BEP 10
	FastByte, FastBit           = 7, 0x04 // BEP 6
	DHTByte, DHTBit             = 7, 0x01 // BEP 5
)

// Handshake is the first message each side sends.
type Handshake struct {
	Reserved Reserved
	InfoHash [20]byte
	PeerID   [20]byte
}

// ErrBadProtocol is returned when the handshake's protocol string is not BitTorrent's.
var ErrBadProtocol = errors.New("wire: not a bittorrent handshake")

// ID is a message type.
type ID uint8

// Message IDs of BEP 3 (and Port of BEP 5).
const (
	Choke ID = iota
	Unchoke
	Interested
	NotInterested
	Have
	BitfieldID
	Request
	Piece
	Cancel
	Port
)

// Message IDs of the Fast extension (BEP 6) and the extension protocol (BEP 10).
const (
	Suggest       ID = 0x0d
	HaveAll       ID = 0x0e
	HaveNone      ID = 0x0f
	RejectRequest ID = 0x10
	AllowedFast   ID = 0x11
	Extended      ID = 20
)

// Message is one decoded message. Which fields are meaningful depends on ID.
type Message struct {
	KeepAlive bool // a zero-length message; ID is meaningless
	ID        ID
	Index     uint32 // have, request, piece, cancel, suggest, reject, allowed fast
	Begin     uint32 // request, piece, cancel, reject
	Length    uint32 // request, cancel, reject
	Bitfield  []byte // bitfield: exactly ceil(pieces/8) bytes, spare bits zero
	Block     []byte // piece: the data; owned by the caller after ReadMessage returns
	Port      uint16 // port
	ExtID     uint8  // extended: the extended message id (0 is the extension handshake)
	Payload   []byte // extended: the payload after ExtID; owned by the caller
}

// Limits bound what a peer may send on one connection.
type Limits struct {
	NumPieces int    // sizes the bitfield
	MaxBlock  uint32 // largest piece payload accepted; BlockSize if zero
	// AnyBitfield is for a connection that does not know the torrent's geometry yet (a
	// magnet's metadata fetch): a bitfield of up to MaxAnyBitfield bytes is read and
	// discarded (returned without Bitfield) instead of checked against NumPieces.
	AnyBitfield bool
}

// MaxAnyBitfield caps a bitfield read with Limits.AnyBitfield: 8 million pieces.
const MaxAnyBitfield = 1 << 20

// ProtocolError is a violation by the remote peer; the engine closes (or bans) on it.
type ProtocolError struct {
	Reason string
}

func (e *ProtocolError) Error() string { return "wire: protocol violation: " + e.Reason }
