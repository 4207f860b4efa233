package wire

import (
	"encoding/binary"
	"strconv"
)

var idNames = [...]string{
	Choke: "choke", Unchoke: "unchoke", Interested: "interested", NotInterested: "not interested",
	Have: "have", BitfieldID: "bitfield", Request: "request", Piece: "piece", Cancel: "cancel",
	Port: "port", Suggest: "suggest", HaveAll: "have all", HaveNone: "have none",
	RejectRequest: "reject request", AllowedFast: "allowed fast", Extended: "extended",
}

// String names the message type, e.g. "piece" or "id 20".
func (id ID) String() string {
	if int(id) < len(idNames) && idNames[id] != "" {
		return idNames[id]
	}
	return "id " + strconv.Itoa(int(id))
}

// AppendMessage appends the wire form of m (with its length prefix) to b. A KeepAlive message
// is four zero bytes. For an ID this package does not know, it appends the bare ID (length 1),
// which is how ReadMessage returns such messages.
func AppendMessage(b []byte, m Message) []byte {
	if m.KeepAlive {
		return append(b, 0, 0, 0, 0)
	}
	switch m.ID {
	case Have, Suggest, AllowedFast:
		return binary.BigEndian.AppendUint32(appendHeader(b, 5, m.ID), m.Index)
	case Request, Cancel, RejectRequest:
		b = appendHeader(b, 13, m.ID)
		b = binary.BigEndian.AppendUint32(b, m.Index)
		b = binary.BigEndian.AppendUint32(b, m.Begin)
		return binary.BigEndian.AppendUint32(b, m.Length)
	case Port:
		return binary.BigEndian.AppendUint16(appendHeader(b, 3, Port), m.Port)
	case BitfieldID:
		return append(appendHeader(b, 1+uint32(len(m.Bitfield)), BitfieldID), m.Bitfield...)
	case Piece:
		return append(AppendPieceHeader(b, m.Index, m.Begin, len(m.Block)), m.Block...)
	case Extended:
		b = append(appendHeader(b, 2+uint32(len(m.Payload)), Extended), m.ExtID)
		return append(b, m.Payload...)
	default:
		return appendHeader(b, 1, m.ID)
	}
}

// AppendPieceHeader appends the 13 bytes that precede a piece message's block of blockLen
// bytes, so that a writer can send the block from its own buffer without copying it
// (net.Buffers{header, block}).
func AppendPieceHeader(b []byte, index, begin uint32, blockLen int) []byte {
	b = appendHeader(b, 9+uint32(blockLen), Piece)
	b = binary.BigEndian.AppendUint32(b, index)
	return binary.BigEndian.AppendUint32(b, begin)
}

func appendHeader(b []byte, n uint32, id ID) []byte {
	return append(binary.BigEndian.AppendUint32(b, n), byte(id))
}
