package tracker

import (
	"strconv"
	"time"
)

// The server writes its few reply shapes by hand: keys in sorted order as bencode requires,
// appended to one reusable buffer, so that an announce costs no reflection.

func appendStr(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	return append(b, s...)
}

func appendBytes(b, s []byte) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	return append(b, s...)
}

func appendInt(b []byte, v int64) []byte {
	b = append(b, 'i')
	b = strconv.AppendInt(b, v, 10)
	return append(b, 'e')
}

func appendKeyInt(b []byte, key string, v int64) []byte {
	return appendInt(appendStr(b, key), v)
}

// appendFailure writes a failure reply. retryIn (BEP 31, minutes) is added when positive.
func appendFailure(b []byte, reason string, retryIn time.Duration) []byte {
	b = append(b, 'd')
	b = appendStr(b, "failure reason")
	b = appendStr(b, reason)
	if m := int64(retryIn / time.Minute); m > 0 {
		b = appendKeyInt(b, "retry in", m)
	}
	return append(b, 'e')
}

// announceReply is what the server answers to a valid announce.
type announceReply struct {
	Counts      Counts
	Interval    time.Duration
	MinInterval time.Duration
	Peers       []Peer
	Compact     bool
	// IPv6 asks for a peers6 key even when empty (the requester is an IPv6 peer, BEP 7).
	IPv6 bool
}

func (r *announceReply) appendTo(b []byte) []byte {
	b = append(b, 'd')
	b = appendKeyInt(b, "complete", int64(r.Counts.Complete))
	b = appendKeyInt(b, "downloaded", int64(r.Counts.Downloaded))
	b = appendKeyInt(b, "incomplete", int64(r.Counts.Incomplete))
	b = appendKeyInt(b, "interval", int64(r.Interval/time.Second))
	b = appendKeyInt(b, "min interval", int64(r.MinInterval/time.Second))
	if r.Compact {
		b = r.appendCompact(b)
	} else {
		b = r.appendDicts(b)
	}
	return append(b, 'e')
}

// appendCompact writes BEP 23 "peers" (6 bytes each) and BEP 7 "peers6" (18 bytes each).
func (r *announceReply) appendCompact(b []byte) []byte {
	n4 := 0
	for _, p := range r.Peers {
		if p.Addr.Addr().Is4() {
			n4++
		}
	}
	b = strconv.AppendInt(appendStr(b, "peers"), int64(6*n4), 10)
	b = append(b, ':')
	for _, p := range r.Peers {
		if a := p.Addr.Addr(); a.Is4() {
			ip := a.As4()
			b = append(b, ip[:]...)
			b = append(b, byte(p.Addr.Port()>>8), byte(p.Addr.Port()))
		}
	}
	n6 := len(r.Peers) - n4
	if n6 == 0 && !r.IPv6 {
		return b
	}
	b = strconv.AppendInt(appendStr(b, "peers6"), int64(18*n6), 10)
	b = append(b, ':')
	for _, p := range r.Peers {
		if a := p.Addr.Addr(); !a.Is4() {
			ip := a.As16()
			b = append(b, ip[:]...)
			b = append(b, byte(p.Addr.Port()>>8), byte(p.Addr.Port()))
		}
	}
	return b
}

// appendDicts writes the original BEP 3 list of dictionaries, without peer ids, as if
// no_peer_id=1: stores do not keep ids (they are no key), and handing them out is what lets a
// client stop or impersonate another peer elsewhere.
func (r *announceReply) appendDicts(b []byte) []byte {
	b = append(appendStr(b, "peers"), 'l')
	for _, p := range r.Peers {
		b = append(b, 'd')
		b = appendStr(appendStr(b, "ip"), p.Addr.Addr().String())
		b = appendKeyInt(b, "port", int64(p.Addr.Port()))
		b = append(b, 'e')
	}
	return append(b, 'e')
}

// appendScrape writes a BEP 48 scrape reply; files maps raw info-hash to counts in sorted
// order, which the caller guarantees.
func appendScrape(b []byte, hashes [][]byte, counts []Counts) []byte {
	b = append(appendStr(append(b, 'd'), "files"), 'd')
	for i, h := range hashes {
		b = appendBytes(b, h)
		b = append(b, 'd')
		b = appendKeyInt(b, "complete", int64(counts[i].Complete))
		b = appendKeyInt(b, "downloaded", int64(counts[i].Downloaded))
		b = appendKeyInt(b, "incomplete", int64(counts[i].Incomplete))
		b = append(b, 'e')
	}
	return append(b, 'e', 'e')
}
