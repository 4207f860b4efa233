package wire

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/anacrolix/torrent/bencode"
)

// PEX flags (BEP 11, the added.f bytes).
const (
	PEXEncryption byte = 0x01 // prefers encryption
	PEXSeed       byte = 0x02 // seed or upload-only
	PEXUTP        byte = 0x04 // supports uTP
	PEXHolepunch  byte = 0x08 // supports ut_holepunch
	PEXReachable  byte = 0x10 // outgoing: the sender connected to it
)

// MaxPEXPeers caps the peers (added plus dropped, both families) in one ut_pex message we
// accept; libtorrent sends at most 100 added. A message with more is a flood.
const MaxPEXPeers = 500

// PEXPeer is one added peer with its flags.
type PEXPeer struct {
	Addr  netip.AddrPort
	Flags byte
}

// PEX is a ut_pex message.
type PEX struct {
	Added   []PEXPeer
	Dropped []netip.AddrPort
}

// Marshal encodes p, splitting IPv4 and IPv6 peers into their lists; added.f (and added6.f)
// are always present and hold one flag byte per peer, which libtorrent requires.
func (p PEX) Marshal() []byte {
	var a4, f4, a6, f6, d4, d6 []byte
	for _, a := range p.Added {
		ap := unmapped(a.Addr)
		if ap.Addr().Is4() {
			a4, f4 = appendCompact(a4, ap), append(f4, a.Flags)
		} else {
			a6, f6 = appendCompact(a6, ap), append(f6, a.Flags)
		}
	}
	for _, d := range p.Dropped {
		ap := unmapped(d)
		if ap.Addr().Is4() {
			d4 = appendCompact(d4, ap)
		} else {
			d6 = appendCompact(d6, ap)
		}
	}
	d := map[string]string{
		"added": string(a4), "added.f": string(f4), "dropped": string(d4),
	}
	if len(a6)+len(d6) > 0 {
		d["added6"], d["added6.f"], d["dropped6"] = string(a6), string(f6), string(d6)
	}
	b, err := bencode.Marshal(d)
	if err != nil {
		panic(fmt.Sprintf("wire: marshal ut_pex: %v", err)) // only strings
	}
	return b
}

// ParsePEX decodes a ut_pex payload. Lists whose length is not a multiple of 6 (IPv4) or 18
// (IPv6) bytes are errors, as is a message of more than MaxPEXPeers peers. Flags missing or
// of the wrong length are taken as zero. Peers with port 0 or an unusable address are
// left out.
func ParsePEX(b []byte) (PEX, error) {
	var p PEX
	d, err := decodeExtDict(b, true)
	if err != nil {
		return p, fmt.Errorf("ut_pex: %w", err)
	}
	total := 0
	for _, fam := range []struct{ list, flags, dropped string }{{"added", "added.f", "dropped"}, {"added6", "added6.f", "dropped6"}} {
		size := 6
		if fam.list == "added6" {
			size = 18
		}
		added, err := compactList(d[fam.list], fam.list, size)
		if err != nil {
			return p, err
		}
		dropped, err := compactList(d[fam.dropped], fam.dropped, size)
		if err != nil {
			return p, err
		}
		if total += len(added) + len(dropped); total > MaxPEXPeers {
			return p, fmt.Errorf("%w: ut_pex: more than %d peers", ErrExtension, MaxPEXPeers)
		}
		flags := []byte(extString(d[fam.flags], MaxExtendedLen))
		if len(flags) != len(added) {
			flags = nil
		}
		for i, a := range added {
			pp := PEXPeer{Addr: a}
			if flags != nil {
				pp.Flags = flags[i]
			}
			if usable(a) {
				p.Added = append(p.Added, pp)
			}
		}
		for _, a := range dropped {
			if usable(a) {
				p.Dropped = append(p.Dropped, a)
			}
		}
	}
	return p, nil
}

func usable(a netip.AddrPort) bool {
	return a.Port() != 0 && !a.Addr().IsUnspecified() && !a.Addr().IsMulticast()
}

// compactList decodes a list of compact addresses of size bytes each (6 or 18).
func compactList(raw bencode.Bytes, key string, size int) ([]netip.AddrPort, error) {
	if raw == nil {
		return nil, nil
	}
	if len(raw) < 2 || raw[0] < '0' || raw[0] > '9' {
		return nil, fmt.Errorf("%w: ut_pex: %s is not a string", ErrExtension, key)
	}
	var s string
	if err := unmarshalExt(raw, &s); err != nil {
		return nil, fmt.Errorf("%w: ut_pex: %s: %v", ErrExtension, key, err)
	}
	if len(s)%size != 0 {
		return nil, fmt.Errorf("%w: ut_pex: %s of %d bytes is not a multiple of %d", ErrExtension, key, len(s), size)
	}
	out := make([]netip.AddrPort, 0, len(s)/size)
	for i := 0; i < len(s); i += size {
		ip, _ := netip.AddrFromSlice([]byte(s[i : i+size-2]))
		port := binary.BigEndian.Uint16([]byte(s[i+size-2 : i+size]))
		out = append(out, netip.AddrPortFrom(ip.Unmap(), port))
	}
	return out, nil
}

func appendCompact(b []byte, ap netip.AddrPort) []byte {
	b = append(b, ap.Addr().AsSlice()...)
	return binary.BigEndian.AppendUint16(b, ap.Port())
}

func unmapped(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
