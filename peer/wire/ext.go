package wire

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"sort"

	"github.com/anacrolix/torrent/bencode"
)

// This file is the extension protocol (BEP 10): the extension handshake. ext_metadata.go and
// ext_pex.go hold the ut_metadata (BEP 9) and ut_pex (BEP 11) payloads.

// MaxExtendedLen caps an extended message's payload (after the extended id): a ut_metadata
// piece is 16 KiB plus a small dictionary, and nothing else we speak comes near. A peer that
// sends more is closed.
const MaxExtendedLen = 32 << 10

// ExtHandshakeID is the extended id of the extension handshake.
const ExtHandshakeID = 0

// Extension names we speak (the keys of the handshake's m dictionary).
const (
	ExtMetadata = "ut_metadata" // BEP 9
	ExtPEX      = "ut_pex"      // BEP 11
)

// ErrExtension is wrapped by every error decoding an extension payload.
var ErrExtension = errors.New("wire: bad extension message")

// maxExtStrLen caps bencode strings inside extended messages.
const maxExtStrLen = MaxExtendedLen

// ExtHandshake is the extension handshake's dictionary (BEP 10). Fields a peer leaves out, or
// sends with the wrong type, are zero: clients disagree enough that only a payload that is not
// a dictionary at all is an error.
type ExtHandshake struct {
	// M maps extension names to the ids the sender wants to receive them under; 0 means the
	// extension is disabled (BEP 10: a later handshake may turn one off).
	M map[string]int
	// V is the client's name and version ("swarm 0.1").
	V string
	// Port is the sender's listen port (p); 0 if not given.
	Port uint16
	// Reqq is how many outstanding requests the sender accepts; 0 if not given.
	Reqq int
	// MetadataSize is the info dictionary's size in bytes (BEP 9); 0 if the sender has none.
	MetadataSize int64
	// YourIP is the address the sender sees us at; invalid if not given.
	YourIP netip.Addr
	// UploadOnly is BEP 21's upload_only: the sender seeds (or does not download).
	UploadOnly bool
}

// maxExtID is the largest extended id (a byte on the wire).
const maxExtID = 255

// Marshal encodes h as a bencoded dictionary.
func (h ExtHandshake) Marshal() []byte {
	d := map[string]any{}
	m := map[string]int{}
	for k, v := range h.M {
		m[k] = v
	}
	d["m"] = m
	if h.V != "" {
		d["v"] = h.V
	}
	if h.Port != 0 {
		d["p"] = int(h.Port)
	}
	if h.Reqq > 0 {
		d["reqq"] = h.Reqq
	}
	if h.MetadataSize > 0 {
		d["metadata_size"] = h.MetadataSize
	}
	if h.YourIP.IsValid() {
		d["yourip"] = string(h.YourIP.Unmap().AsSlice())
	}
	if h.UploadOnly {
		d["upload_only"] = 1
	}
	b, err := bencode.Marshal(d)
	if err != nil {
		panic(fmt.Sprintf("wire: marshal extension handshake: %v", err)) // only ints and strings
	}
	return b
}

// ParseExtHandshake decodes an extension handshake. Ids outside 0..255 and negative sizes
// are ignored, as are unknown keys.
func ParseExtHandshake(b []byte) (ExtHandshake, error) {
	var h ExtHandshake
	d, err := decodeExtDict(b, true)
	if err != nil {
		return h, err
	}
	h.M = map[string]int{}
	if raw, ok := d["m"]; ok {
		var m map[string]bencode.Bytes
		if err := unmarshalExt(raw, &m); err == nil {
			for k, v := range m {
				if id, ok := extInt(v); ok && id >= 0 && id <= maxExtID {
					h.M[k] = int(id)
				}
			}
		}
	}
	h.V = extString(d["v"], 256)
	if p, ok := extInt(d["p"]); ok && p > 0 && p <= 65535 {
		h.Port = uint16(p)
	}
	if q, ok := extInt(d["reqq"]); ok && q > 0 && q <= 1<<20 {
		h.Reqq = int(q)
	}
	if n, ok := extInt(d["metadata_size"]); ok && n > 0 {
		h.MetadataSize = n
	}
	if ip, ok := netip.AddrFromSlice([]byte(extString(d["yourip"], 16))); ok {
		h.YourIP = ip.Unmap()
	}
	if u, ok := extInt(d["upload_only"]); ok && u != 0 {
		h.UploadOnly = true
	}
	return h, nil
}

// Names returns the extensions enabled in h.M, sorted (for logs).
func (h ExtHandshake) Names() []string {
	var out []string
	for k, v := range h.M {
		if v != 0 {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// decodeExtDict decodes a bencoded dictionary at the start of b into its raw values. If
// whole, nothing may follow it; otherwise the returned dictionary's length in b is in n.
func decodeExtDict(b []byte, whole bool) (map[string]bencode.Bytes, error) {
	d, _, err := decodeExtDictN(b, whole)
	return d, err
}

func decodeExtDictN(b []byte, whole bool) (map[string]bencode.Bytes, int, error) {
	if len(b) == 0 || b[0] != 'd' {
		return nil, 0, fmt.Errorf("%w: not a dictionary", ErrExtension)
	}
	dec := bencode.NewDecoder(bytes.NewReader(b))
	dec.MaxStrLen = maxExtStrLen
	var d map[string]bencode.Bytes
	if err := dec.Decode(&d); err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrExtension, err)
	}
	if whole && dec.Offset != int64(len(b)) {
		return nil, 0, fmt.Errorf("%w: %d bytes after the dictionary", ErrExtension, int64(len(b))-dec.Offset)
	}
	return d, int(dec.Offset), nil
}

func unmarshalExt(raw []byte, v any) error {
	dec := bencode.NewDecoder(bytes.NewReader(raw))
	dec.MaxStrLen = maxExtStrLen
	return dec.Decode(v)
}

// extInt decodes a raw bencode integer; ok is false for anything else.
func extInt(raw bencode.Bytes) (int64, bool) {
	if len(raw) < 3 || raw[0] != 'i' {
		return 0, false
	}
	var n int64
	if err := unmarshalExt(raw, &n); err != nil {
		return 0, false
	}
	return n, true
}

// extString decodes a raw bencode string of at most max bytes; "" for anything else.
func extString(raw bencode.Bytes, max int) string {
	if len(raw) < 2 || raw[0] < '0' || raw[0] > '9' {
		return ""
	}
	var s string
	if err := unmarshalExt(raw, &s); err != nil || len(s) > max {
		return ""
	}
	return s
}
