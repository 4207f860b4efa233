package udpwire

import (
	"net/netip"
)

// ReplyHeaderSize is action and transaction id: every response starts so.
const ReplyHeaderSize = 8

// Counts are the three numbers of a scrape entry (and, but for Completed, of an announce).
type Counts struct {
	Seeders   uint32
	Completed uint32
	Leechers  uint32
}

// AppendReplyHeader appends the start of a response.
func AppendReplyHeader(b []byte, a Action, txID uint32) []byte {
	return be.AppendUint32(be.AppendUint32(b, uint32(a)), txID)
}

// AppendConnectReply appends a connect response carrying connID.
func AppendConnectReply(b []byte, txID uint32, connID uint64) []byte {
	return be.AppendUint64(AppendReplyHeader(b, ActionConnect, txID), connID)
}

// AppendAnnounceReply appends the fixed part of an announce response; peers follow, appended
// with AppendPeer, all of one family (IPv4 over IPv4, IPv6 over IPv6).
func AppendAnnounceReply(b []byte, txID, interval uint32, c Counts) []byte {
	b = AppendReplyHeader(b, ActionAnnounce, txID)
	b = be.AppendUint32(b, interval)
	b = be.AppendUint32(b, c.Leechers)
	return be.AppendUint32(b, c.Seeders)
}

// AppendPeer appends one peer: 6 bytes for an IPv4 address, 18 for an IPv6 one. An
// IPv4-mapped address is written as IPv4.
func AppendPeer(b []byte, p netip.AddrPort) []byte {
	a := p.Addr().Unmap()
	if a.Is4() {
		ip := a.As4()
		b = append(b, ip[:]...)
	} else {
		ip := a.As16()
		b = append(b, ip[:]...)
	}
	return be.AppendUint16(b, p.Port())
}

// AppendScrapeCounts appends one entry of a scrape response (after AppendReplyHeader).
func AppendScrapeCounts(b []byte, c Counts) []byte {
	b = be.AppendUint32(b, c.Seeders)
	b = be.AppendUint32(b, c.Completed)
	return be.AppendUint32(b, c.Leechers)
}

// AppendError appends an error response with a human-readable message.
func AppendError(b []byte, txID uint32, msg string) []byte {
	return append(AppendReplyHeader(b, ActionError, txID), msg...)
}

// ErrorReply is an error response from a tracker.
type ErrorReply struct {
	Message string
}

// Error returns the tracker's message.
func (e *ErrorReply) Error() string { return "tracker error: " + e.Message }

// ParseReply checks that b answers the request txID with action want and returns the body
// after the header. An error response is returned as an *ErrorReply (its message is copied:
// it is the only allocation of the decoders).
func ParseReply(b []byte, txID uint32, want Action) ([]byte, error) {
	if len(b) < ReplyHeaderSize {
		return nil, ErrShort
	}
	if be.Uint32(b[4:]) != txID {
		return nil, ErrTransaction
	}
	a := Action(be.Uint32(b))
	if a == ActionError && want != ActionError {
		return nil, &ErrorReply{Message: string(b[ReplyHeaderSize:min(len(b), ReplyHeaderSize+512)])}
	}
	if a != want {
		return nil, ErrAction
	}
	return b[ReplyHeaderSize:], nil
}

// ParseConnectReply returns the connection id of a connect response body.
func ParseConnectReply(body []byte) (uint64, error) {
	if len(body) < 8 {
		return 0, ErrShort
	}
	return be.Uint64(body), nil
}

// AnnounceReply is the decoded body of an announce response.
type AnnounceReply struct {
	Interval uint32
	Leechers uint32
	Seeders  uint32
	// Peers is the raw peer list, aliasing the packet; see AppendPeers.
	Peers []byte
}

// ParseAnnounceReply decodes an announce response body.
func ParseAnnounceReply(body []byte) (AnnounceReply, error) {
	if len(body) < AnnounceReplyHeader-ReplyHeaderSize {
		return AnnounceReply{}, ErrShort
	}
	return AnnounceReply{
		Interval: be.Uint32(body), Leechers: be.Uint32(body[4:]), Seeders: be.Uint32(body[8:]),
		Peers: body[12:],
	}, nil
}

// AppendPeers decodes a raw peer list of 6-byte (ipv6 false) or 18-byte entries onto dst.
// Entries with port 0 or an unspecified address are skipped.
func AppendPeers(dst []netip.AddrPort, raw []byte, ipv6 bool) ([]netip.AddrPort, error) {
	size := 6
	if ipv6 {
		size = 18
	}
	if len(raw)%size != 0 {
		return dst, ErrPeersLength
	}
	for ; len(raw) > 0; raw = raw[size:] {
		ip, _ := netip.AddrFromSlice(raw[:size-2])
		port := be.Uint16(raw[size-2:])
		if port != 0 && !ip.IsUnspecified() {
			dst = append(dst, netip.AddrPortFrom(ip.Unmap(), port))
		}
	}
	return dst, nil
}

// ParseScrapeReply decodes a scrape response body into dst, one entry per info-hash asked
// for, in order. A shorter reply (a tracker that capped the list) yields fewer entries.
func ParseScrapeReply(dst []Counts, body []byte) ([]Counts, error) {
	if len(body)%12 != 0 {
		return dst, ErrScrapeLength
	}
	for ; len(body) > 0; body = body[12:] {
		dst = append(dst, Counts{Seeders: be.Uint32(body), Completed: be.Uint32(body[4:]), Leechers: be.Uint32(body[8:])})
	}
	return dst, nil
}
