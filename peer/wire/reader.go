package wire

import (
	"encoding/binary"
	"fmt"
	"io"

	"github.com/swarm-bt/swarm/peer/bitfield"
)

// ReadBufferSize is the size of the Reader's internal buffer: two blocks, so that a piece
// message usually arrives in one or two reads from the connection. It grows to
// MaxReadBufferSize while the peer sends faster than the Reader reads (see inbuf).
const ReadBufferSize = 32 << 10

// Reader decodes messages from one connection, enforcing Limits. It is not safe for
// concurrent use: one goroutine (the connection's reader) owns it.
//
// Every length a peer announces is checked before anything is allocated: no message may be
// longer than the largest legal one for this torrent, max(9+MaxBlock, 1+ceil(NumPieces/8),
// 13), except that an extended message (BEP 10) may carry MaxExtendedLen bytes, and each known
// ID has its exact size. Unknown IDs are read and discarded within that cap and
// returned as a Message carrying only the ID, so the engine may ignore them. The codec does not know the torrent's geometry: the
// engine checks request lengths, indexes and offsets, and that a piece was asked for.
type Reader struct {
	br     *inbuf
	lim    Limits
	maxLen uint32 // the largest legal length prefix
	bfLen  int    // the exact bitfield payload size
	hdr    [12]byte
	alloc  func(n int) []byte
}

// NewReader returns a Reader over r. r should not be read by anyone else afterwards: the
// Reader buffers ahead. A negative NumPieces is treated as zero.
func NewReader(r io.Reader, lim Limits) *Reader {
	if lim.MaxBlock == 0 {
		lim.MaxBlock = BlockSize
	}
	lim.NumPieces = max(lim.NumPieces, 0)
	rd := &Reader{br: newInbuf(r), lim: lim}
	rd.bfLen = bitfield.ByteLen(lim.NumPieces)
	maxLen := max(9+uint64(lim.MaxBlock), 1+uint64(rd.bfLen), 13)
	if lim.AnyBitfield {
		maxLen = max(maxLen, 1+MaxAnyBitfield)
	}
	rd.maxLen = uint32(min(maxLen, 1<<32-1))
	return rd
}

// SetBlockAlloc makes the Reader take each piece message's Block from alloc(n) instead of
// make([]byte, n), so that the engine can recycle block buffers (a sync.Pool of BlockSize
// slices, returned once the block is written to disk). alloc must return a slice of length n
// that nobody else uses until the caller is done with the Message; n never exceeds MaxBlock.
// A nil alloc restores the default.
func (r *Reader) SetBlockAlloc(alloc func(n int) []byte) { r.alloc = alloc }

// Ready reports whether a whole message is already buffered, so that ReadMessage returns
// without reading from the connection.
func (r *Reader) Ready() bool {
	n := r.br.Buffered()
	if n < 4 {
		return false
	}
	hdr, _ := r.br.Peek(4) // buffered: no read
	return uint64(n) >= 4+uint64(binary.BigEndian.Uint32(hdr))
}

// MaxLength is the largest length prefix the Reader accepts.
func (r *Reader) MaxLength() uint32 { return r.maxLen }

// ReadMessage decodes the next message. A malformed or oversized message yields a
// *ProtocolError (returned as is, not wrapped); I/O failures are returned wrapped ("read
// message: ..."). A clean end of stream between messages matches io.EOF with errors.Is; an end
// inside a message matches io.ErrUnexpectedEOF. The Block and Bitfield slices are freshly
// allocated and belong to the caller (see SetBlockAlloc to supply Block buffers instead).
func (r *Reader) ReadMessage() (Message, error) {
	if _, err := io.ReadFull(r.br, r.hdr[:4]); err != nil {
		return Message{}, fmt.Errorf("read message: %w", err) // io.EOF only at a boundary
	}
	n := binary.BigEndian.Uint32(r.hdr[:4])
	if n == 0 {
		return Message{KeepAlive: true}, nil
	}
	if lim := max(r.maxLen, 2+MaxExtendedLen); n > lim {
		return Message{}, violation("message length %d exceeds the limit %d", n, lim)
	}
	id, err := r.br.ReadByte()
	if err != nil {
		return Message{}, fmt.Errorf("read message: %w", unexpected(err))
	}
	if ID(id) == Extended && n > 2+MaxExtendedLen {
		return Message{}, violation("extended message length %d exceeds the limit %d", n, 2+MaxExtendedLen)
	}
	if ID(id) != Extended && n > r.maxLen {
		return Message{}, violation("message length %d exceeds the limit %d", n, r.maxLen)
	}
	return r.readBody(ID(id), n-1)
}

// readBody decodes the payload of size n (the length prefix minus the ID byte).
func (r *Reader) readBody(id ID, n uint32) (Message, error) {
	m := Message{ID: id}
	switch id {
	case Choke, Unchoke, Interested, NotInterested:
		return m, r.expect(id, n, 0)
	case HaveAll, HaveNone:
		return m, r.expect(id, n, 0)
	case Have, Request, Cancel, Port, Suggest, RejectRequest, AllowedFast:
		return r.readFixed(m, n)
	case Extended:
		return r.readExtended(m, n)
	case Piece:
		return r.readPiece(m, n)
	case BitfieldID:
		return r.readBitfield(m, n)
	default:
		if _, err := r.br.Discard(int(n)); err != nil {
			return Message{}, fmt.Errorf("read message: %w", unexpected(err))
		}
		return m, nil
	}
}

// payloadSize is the payload size of the fixed-size messages with fields.
var payloadSize = [...]uint32{Have: 4, Request: 12, Cancel: 12, Port: 2, Suggest: 4, RejectRequest: 12, AllowedFast: 4}

func (r *Reader) readFixed(m Message, n uint32) (Message, error) {
	if err := r.fixed(m.ID, n, payloadSize[m.ID]); err != nil {
		return Message{}, err
	}
	switch m.ID {
	case Have, Suggest, AllowedFast:
		m.Index = r.u32(0)
	case Port:
		m.Port = binary.BigEndian.Uint16(r.hdr[:2])
	default:
		m.Index, m.Begin, m.Length = r.u32(0), r.u32(4), r.u32(8)
	}
	return m, nil
}

func (r *Reader) u32(at int) uint32 { return binary.BigEndian.Uint32(r.hdr[at : at+4]) }

// expect checks that a message of id has exactly want payload bytes.
func (r *Reader) expect(id ID, n, want uint32) error {
	if n != want {
		return violation("%v message of %d bytes, want %d", id, n+1, want+1)
	}
	return nil
}

// fixed checks the size of a fixed-size message and reads its payload into r.hdr.
func (r *Reader) fixed(id ID, n, want uint32) error {
	if err := r.expect(id, n, want); err != nil {
		return err
	}
	return r.full(r.hdr[:n])
}

func (r *Reader) full(p []byte) error {
	if _, err := io.ReadFull(r.br, p); err != nil {
		return fmt.Errorf("read message: %w", unexpected(err))
	}
	return nil
}

func (r *Reader) readPiece(m Message, n uint32) (Message, error) {
	if n < 8 || n-8 > r.lim.MaxBlock {
		return Message{}, violation("piece message of %d bytes, want 9 to %d", n+1, 9+uint64(r.lim.MaxBlock))
	}
	if err := r.full(r.hdr[:8]); err != nil {
		return Message{}, err
	}
	m.Index, m.Begin = r.u32(0), r.u32(4)
	if r.alloc != nil {
		m.Block = r.alloc(int(n - 8))[:n-8]
	} else {
		m.Block = make([]byte, n-8)
	}
	if err := r.full(m.Block); err != nil {
		return Message{}, err
	}
	return m, nil
}

func (r *Reader) readBitfield(m Message, n uint32) (Message, error) {
	if r.lim.AnyBitfield {
		if _, err := r.br.Discard(int(n)); err != nil {
			return Message{}, fmt.Errorf("read message: %w", unexpected(err))
		}
		return m, nil
	}
	if int64(n) != int64(r.bfLen) {
		return Message{}, violation("bitfield of %d bytes for %d pieces, want %d", n, r.lim.NumPieces, r.bfLen)
	}
	m.Bitfield = make([]byte, n)
	if err := r.full(m.Bitfield); err != nil {
		return Message{}, err
	}
	if _, err := bitfield.FromBytes(m.Bitfield, r.lim.NumPieces); err != nil {
		return Message{}, violation("bitfield: %v", err)
	}
	return m, nil
}

func violation(format string, args ...any) error {
	return &ProtocolError{Reason: fmt.Sprintf(format, args...)}
}

// readExtended reads an extended message: its extended id and at most MaxExtendedLen bytes.
func (r *Reader) readExtended(m Message, n uint32) (Message, error) {
	if n < 1 || n-1 > MaxExtendedLen {
		return Message{}, violation("extended message of %d bytes, want 2 to %d", n+1, 2+MaxExtendedLen)
	}
	id, err := r.br.ReadByte()
	if err != nil {
		return Message{}, fmt.Errorf("read message: %w", unexpected(err))
	}
	m.ExtID = id
	m.Payload = make([]byte, n-1)
	if err := r.full(m.Payload); err != nil {
		return Message{}, err
	}
	return m, nil
}
