package wire

import (
	"fmt"
	"io"
)

// WriteHandshake writes h in one Write call; the caller sets any deadline.
func WriteHandshake(w io.Writer, h Handshake) error {
	if _, err := w.Write(AppendHandshake(make([]byte, 0, HandshakeLen), h)); err != nil {
		return fmt.Errorf("write handshake: %w", err)
	}
	return nil
}

// AppendHandshake appends the HandshakeLen bytes of h to b.
func AppendHandshake(b []byte, h Handshake) []byte {
	b = append(b, byte(len(Protocol)))
	b = append(b, Protocol...)
	b = append(b, h.Reserved[:]...)
	b = append(b, h.InfoHash[:]...)
	return append(b, h.PeerID[:]...)
}

// ReadHandshake reads exactly HandshakeLen bytes (never more, so the caller may wrap r in a
// Reader afterwards) and checks the protocol string; the caller sets any deadline and checks
// the info-hash and peer id. A wrong length byte is refused before anything else is read, so a
// stray HTTP client or a garbled stream fails at once. It returns an error matching
// ErrBadProtocol for a wrong protocol string and wraps I/O errors ("read handshake: ...").
func ReadHandshake(r io.Reader) (Handshake, error) {
	var buf [HandshakeLen]byte
	if _, err := io.ReadFull(r, buf[:1]); err != nil {
		return Handshake{}, fmt.Errorf("read handshake: %w", err)
	}
	if int(buf[0]) != len(Protocol) {
		return Handshake{}, fmt.Errorf("read handshake: protocol length %d: %w", buf[0], ErrBadProtocol)
	}
	if _, err := io.ReadFull(r, buf[1:]); err != nil {
		return Handshake{}, fmt.Errorf("read handshake: %w", unexpected(err))
	}
	if string(buf[1:1+len(Protocol)]) != Protocol {
		return Handshake{}, fmt.Errorf("read handshake: %w", ErrBadProtocol)
	}
	var h Handshake
	rest := buf[1+len(Protocol):]
	copy(h.Reserved[:], rest[:8])
	copy(h.InfoHash[:], rest[8:28])
	copy(h.PeerID[:], rest[28:48])
	return h, nil
}

// Has reports whether bit (a mask such as FastBit) is set in byte i of the reserved bytes.
func (r Reserved) Has(i int, bit byte) bool { return i >= 0 && i < len(r) && r[i]&bit != 0 }

// Set returns r with bit set in byte i.
func (r Reserved) Set(i int, bit byte) Reserved {
	r[i] |= bit
	return r
}

// unexpected turns an io.EOF met inside a frame into io.ErrUnexpectedEOF: only an EOF at a
// frame boundary is a clean end of stream.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
