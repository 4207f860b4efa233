// Package udpwire encodes and decodes the packets of the UDP tracker protocol (BEP 15) with
// the URL data option of BEP 41. It does no I/O and keeps no state: the server and client in
// package tracker and the load generator in bench/udpload share it.
//
// Decoders never allocate: they fill a caller's struct and return slices that alias the packet.
// Encoders append to a caller's buffer. Every multi-byte field is big-endian.
package udpwire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ProtocolID is the magic connection id of a connect request.
const ProtocolID uint64 = 0x41727101980

// Action is the second field of every packet.
type Action uint32

// The actions of BEP 15.
const (
	ActionConnect  Action = 0
	ActionAnnounce Action = 1
	ActionScrape   Action = 2
	ActionError    Action = 3
)

// Event is the event field of an announce; the numbers differ from the HTTP order.
type Event uint32

// The announce events of BEP 15.
const (
	EventNone      Event = 0
	EventCompleted Event = 1
	EventStarted   Event = 2
	EventStopped   Event = 3
)

// Packet sizes.
const (
	// HeaderSize is connection id, action and transaction id: every request starts so.
	HeaderSize = 16
	// ConnectSize is the size of a connect request and of its response.
	ConnectSize = 16
	// AnnounceSize is the size of an announce request without BEP 41 options.
	AnnounceSize = 98
	// AnnounceReplyHeader is the fixed part of an announce response, before the peers.
	AnnounceReplyHeader = 20
	// ScrapeReplyHeader is the fixed part of a scrape response, before the counts.
	ScrapeReplyHeader = 8
	// MaxScrapeHashes is how many info-hashes fit a scrape request in one 1,500-byte packet
	// (BEP 15: "up to about 74").
	MaxScrapeHashes = 74
	// MaxURLData bounds the BEP 41 URL data a request may carry (a packet stays under 1,500
	// bytes, so a handful of 255-byte options at most).
	MaxURLData = 1024
)

// Errors of the decoders. Callers branch on them to drop a packet or answer it.
var (
	ErrShort        = errors.New("udpwire: packet too short")
	ErrProtocolID   = errors.New("udpwire: bad protocol id in connect")
	ErrScrapeLength = errors.New("udpwire: scrape length is not a whole number of info-hashes")
	ErrTooMany      = fmt.Errorf("udpwire: more than %d info-hashes in a scrape", MaxScrapeHashes)
	ErrAction       = errors.New("udpwire: unexpected action")
	ErrTransaction  = errors.New("udpwire: transaction id does not match")
	ErrPeersLength  = errors.New("udpwire: peer list length is not a whole number of entries")
)

var be = binary.BigEndian

// Header is the start of every request.
type Header struct {
	ConnID uint64
	Action Action
	TxID   uint32
}

// ParseHeader reads the header of a request.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, ErrShort
	}
	return Header{ConnID: be.Uint64(b), Action: Action(be.Uint32(b[8:])), TxID: be.Uint32(b[12:])}, nil
}

// AppendHeader appends a request header.
func AppendHeader(b []byte, h Header) []byte {
	b = be.AppendUint64(b, h.ConnID)
	b = be.AppendUint32(b, uint32(h.Action))
	return be.AppendUint32(b, h.TxID)
}

// AppendConnect appends a connect request.
func AppendConnect(b []byte, txID uint32) []byte {
	return AppendHeader(b, Header{ConnID: ProtocolID, Action: ActionConnect, TxID: txID})
}

// CheckConnect validates a connect request whose header h was parsed from b.
func CheckConnect(h Header) error {
	if h.ConnID != ProtocolID {
		return ErrProtocolID
	}
	return nil
}

// Announce is the body of an announce request.
type Announce struct {
	InfoHash   [20]byte
	PeerID     [20]byte
	Downloaded int64
	Left       int64
	Uploaded   int64
	Event      Event
	// IP is the address the client asks to be listed at (0.0.0.0 = the sender's); trackers
	// serving the public ignore it.
	IP      [4]byte
	Key     uint32
	NumWant int32 // -1 = the tracker's default
	Port    uint16
	// URLData is the BEP 41 path and query, the concatenation of every URLData option. When
	// parsed, it aliases the packet or a caller's buffer (see ParseAnnounce).
	URLData []byte
}

// BEP 41 option types.
const (
	optEnd     = 0
	optNOP     = 1
	optURLData = 2
)

// ParseAnnounce decodes the announce request in b (header included) into a. URL data is
// gathered into urlBuf[:0] (which should have MaxURLData capacity to avoid allocating) and
// a.URLData points into it. Malformed options end the option list, as BEP 41 asks, rather
// than failing the announce.
func ParseAnnounce(b []byte, a *Announce, urlBuf []byte) error {
	if len(b) < AnnounceSize {
		return ErrShort
	}
	copy(a.InfoHash[:], b[16:36])
	copy(a.PeerID[:], b[36:56])
	a.Downloaded = int64(be.Uint64(b[56:]))
	a.Left = int64(be.Uint64(b[64:]))
	a.Uploaded = int64(be.Uint64(b[72:]))
	a.Event = Event(be.Uint32(b[80:]))
	copy(a.IP[:], b[84:88])
	a.Key = be.Uint32(b[88:])
	a.NumWant = int32(be.Uint32(b[92:]))
	a.Port = be.Uint16(b[96:])
	a.URLData = parseOptions(b[AnnounceSize:], urlBuf[:0])
	return nil
}

// parseOptions concatenates the URLData options of opts onto dst, up to MaxURLData bytes.
func parseOptions(opts, dst []byte) []byte {
	for len(opts) > 0 {
		switch opts[0] {
		case optEnd:
			return dst
		case optNOP:
			opts = opts[1:]
			continue
		}
		if len(opts) < 2 || len(opts) < 2+int(opts[1]) {
			return dst
		}
		if opts[0] == optURLData {
			n := min(int(opts[1]), MaxURLData-len(dst))
			dst = append(dst, opts[2:2+n]...)
		}
		opts = opts[2+int(opts[1]):]
	}
	return dst
}

// AppendAnnounce appends an announce request with its BEP 41 URL data, split into options of
// at most 255 bytes and ended by an EndOfOptions byte.
func AppendAnnounce(b []byte, connID uint64, txID uint32, a *Announce) []byte {
	b = AppendHeader(b, Header{ConnID: connID, Action: ActionAnnounce, TxID: txID})
	b = append(b, a.InfoHash[:]...)
	b = append(b, a.PeerID[:]...)
	b = be.AppendUint64(b, uint64(a.Downloaded))
	b = be.AppendUint64(b, uint64(a.Left))
	b = be.AppendUint64(b, uint64(a.Uploaded))
	b = be.AppendUint32(b, uint32(a.Event))
	b = append(b, a.IP[:]...)
	b = be.AppendUint32(b, a.Key)
	b = be.AppendUint32(b, uint32(a.NumWant))
	b = be.AppendUint16(b, a.Port)
	u := a.URLData
	if len(u) > MaxURLData {
		u = u[:MaxURLData]
	}
	for len(u) > 0 {
		n := min(len(u), 255)
		b = append(b, optURLData, byte(n))
		b = append(b, u[:n]...)
		u = u[n:]
	}
	if len(a.URLData) > 0 {
		b = append(b, optEnd)
	}
	return b
}

// ScrapeHashes returns the info-hashes of the scrape request in b (header included), as a
// slice of 20-byte entries aliasing b. A request with no hash at all is too short.
func ScrapeHashes(b []byte) ([]byte, error) {
	body := b[min(len(b), HeaderSize):]
	switch {
	case len(body) < 20:
		return nil, ErrShort
	case len(body)%20 != 0:
		return nil, ErrScrapeLength
	case len(body)/20 > MaxScrapeHashes:
		return nil, ErrTooMany
	}
	return body, nil
}

// AppendScrape appends a scrape request for hashes (at most MaxScrapeHashes; the caller
// splits longer lists).
func AppendScrape(b []byte, connID uint64, txID uint32, hashes [][20]byte) []byte {
	b = AppendHeader(b, Header{ConnID: connID, Action: ActionScrape, TxID: txID})
	for _, h := range hashes {
		b = append(b, h[:]...)
	}
	return b
}
