package dht

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/anacrolix/torrent/bencode"
)

// MaxPacketSize bounds a KRPC packet in either direction. Real messages stay well under a
// typical 1,500-byte MTU; anything longer is dropped before it is decoded.
const MaxPacketSize = 2048

// maxTIDLen bounds transaction ids: clients use 2 to 4 bytes.
const maxTIDLen = 16

// KRPC error codes (BEP 5).
const (
	ErrCodeGeneric  = 201
	ErrCodeServer   = 202
	ErrCodeProtocol = 203
	ErrCodeMethod   = 204
)

// ErrMalformed is wrapped by every Decode error.
var ErrMalformed = errors.New("dht: malformed krpc message")

// Msg is one KRPC message: a query (Y "q"), a response ("r") or an error ("e").
type Msg struct {
	T  string  `bencode:"t"`
	Y  string  `bencode:"y"`
	Q  string  `bencode:"q,omitempty"`
	A  *Args   `bencode:"a,omitempty"`
	R  *Return `bencode:"r,omitempty"`
	E  *Error  `bencode:"e,omitempty"`
	V  string  `bencode:"v,omitempty"`
	RO int     `bencode:"ro,omitempty"` // BEP 43: the sender is read-only
	IP string  `bencode:"ip,omitempty"` // BEP 42: the requester's address, compact
}

// Args are a query's arguments.
type Args struct {
	ID          string   `bencode:"id"`
	Target      string   `bencode:"target,omitempty"`
	InfoHash    string   `bencode:"info_hash,omitempty"`
	Port        *int     `bencode:"port,omitempty"`
	ImpliedPort int      `bencode:"implied_port,omitempty"`
	Token       string   `bencode:"token,omitempty"`
	Want        []string `bencode:"want,omitempty"`
}

// Return is a response's body.
type Return struct {
	ID     string   `bencode:"id"`
	Nodes  string   `bencode:"nodes,omitempty"`
	Nodes6 string   `bencode:"nodes6,omitempty"`
	Values []string `bencode:"values,omitempty"`
	Token  string   `bencode:"token,omitempty"`
}

// Error is a KRPC error: a code and a message, bencoded as a two-element list.
type Error struct {
	Code int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("dht: krpc error %d: %s", e.Code, e.Msg) }

// MarshalBencode implements bencode.Marshaler.
func (e Error) MarshalBencode() ([]byte, error) {
	return bencode.Marshal([]any{e.Code, e.Msg})
}

// UnmarshalBencode implements bencode.Unmarshaler.
func (e *Error) UnmarshalBencode(b []byte) error {
	var l []bencode.Bytes
	if err := bencode.Unmarshal(b, &l); err != nil {
		return err
	}
	if len(l) < 1 {
		return errors.New("empty error list")
	}
	var code int64
	if err := bencode.Unmarshal(l[0], &code); err != nil {
		return fmt.Errorf("error code: %w", err)
	}
	e.Code = int(code)
	if len(l) > 1 {
		_ = bencode.Unmarshal(l[1], &e.Msg) // the message is informative only
	}
	return nil
}

// Encode bencodes m.
func Encode(m *Msg) ([]byte, error) {
	b, err := bencode.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode krpc: %w", err)
	}
	return b, nil
}

// Decode parses and validates one KRPC packet. Errors wrap ErrMalformed.
func Decode(b []byte) (*Msg, error) {
	if len(b) > MaxPacketSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrMalformed, len(b))
	}
	if len(b) == 0 || b[0] != 'd' {
		return nil, fmt.Errorf("%w: not a dictionary", ErrMalformed)
	}
	d := bencode.NewDecoder(bytes.NewReader(b))
	d.MaxStrLen = MaxPacketSize
	d.MaxDepth = 8
	var m Msg
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if d.Offset != int64(len(b)) {
		return nil, fmt.Errorf("%w: trailing data", ErrMalformed)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return &m, nil
}

func (m *Msg) validate() error {
	if m.T == "" || len(m.T) > maxTIDLen {
		return fmt.Errorf("transaction id of %d bytes", len(m.T))
	}
	switch m.Y {
	case "q":
		if m.Q == "" || m.A == nil {
			return errors.New("query without method or arguments")
		}
		if len(m.A.ID) != IDSize {
			return errors.New("query id is not 20 bytes")
		}
	case "r":
		if m.R == nil || len(m.R.ID) != IDSize {
			return errors.New("response without a 20-byte id")
		}
	case "e":
		if m.E == nil {
			return errors.New("error message without error")
		}
	default:
		return fmt.Errorf("message type %q", m.Y)
	}
	return nil
}

// NodeInfo is a node's id and UDP address, as carried in "nodes" and "nodes6".
type NodeInfo struct {
	ID   ID
	Addr netip.AddrPort
}

// encodeNodes returns the compact forms of the IPv4 and IPv6 nodes (BEP 5, BEP 32).
func encodeNodes(ns []NodeInfo) (v4, v6 string) {
	var b4, b6 []byte
	for _, n := range ns {
		ip := n.Addr.Addr().Unmap()
		if ip.Is4() {
			b4 = append(b4, n.ID[:]...)
			b4 = appendAddr(b4, netip.AddrPortFrom(ip, n.Addr.Port()))
		} else {
			b6 = append(b6, n.ID[:]...)
			b6 = appendAddr(b6, n.Addr)
		}
	}
	return string(b4), string(b6)
}

func appendAddr(b []byte, ap netip.AddrPort) []byte {
	b = append(b, ap.Addr().AsSlice()...)
	return binary.BigEndian.AppendUint16(b, ap.Port())
}

// compactAddr is the 6- or 18-byte form of ap.
func compactAddr(ap netip.AddrPort) string {
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	return string(appendAddr(nil, ap))
}

// parseNodes decodes compact node infos of ipLen-byte addresses (4 or 16).
func parseNodes(s string, ipLen int) ([]NodeInfo, error) {
	size := IDSize + ipLen + 2
	if len(s)%size != 0 {
		return nil, fmt.Errorf("%w: nodes of %d bytes", ErrMalformed, len(s))
	}
	ns := make([]NodeInfo, 0, len(s)/size)
	for i := 0; i < len(s); i += size {
		var n NodeInfo
		copy(n.ID[:], s[i:])
		ap, err := parseAddr(s[i+IDSize : i+size])
		if err != nil {
			return nil, err
		}
		n.Addr = ap
		ns = append(ns, n)
	}
	return ns, nil
}

// parseAddr decodes a 6- or 18-byte compact address.
func parseAddr(s string) (netip.AddrPort, error) {
	var ip netip.Addr
	switch len(s) {
	case 6:
		ip = netip.AddrFrom4([4]byte([]byte(s[:4])))
	case 18:
		ip = netip.AddrFrom16([16]byte([]byte(s[:16])))
	default:
		return netip.AddrPort{}, fmt.Errorf("%w: compact address of %d bytes", ErrMalformed, len(s))
	}
	port := binary.BigEndian.Uint16([]byte(s[len(s)-2:]))
	return netip.AddrPortFrom(ip, port), nil
}
