package tracker

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/anacrolix/torrent/bencode"
)

// rawReply is an announce reply as bencoded; peers stay raw because they come in two shapes.
type rawReply struct {
	Failure     *string       `bencode:"failure reason"`
	Warning     string        `bencode:"warning message"`
	Interval    int64         `bencode:"interval"`
	MinInterval int64         `bencode:"min interval"`
	Complete    int64         `bencode:"complete"`
	Incomplete  int64         `bencode:"incomplete"`
	TrackerID   string        `bencode:"tracker id"`
	Peers       bencode.Bytes `bencode:"peers"`
	Peers6      bencode.Bytes `bencode:"peers6"`
}

type dictPeer struct {
	IP     string `bencode:"ip"`
	Port   int64  `bencode:"port"`
	PeerID string `bencode:"peer id"`
}

// maxInterval bounds what a tracker may ask; larger values are clamped, not trusted.
const maxInterval = 24 * time.Hour

// parseAnnounceReply decodes a reply body, whose size the caller has already bounded. A
// "failure reason" is returned as a *FailureError without a tracker URL.
func parseAnnounceReply(body []byte) (AnnounceResponse, string, error) {
	var r rawReply
	if err := decodeBencode(body, &r); err != nil {
		return AnnounceResponse{}, "", fmt.Errorf("decode reply: %w", err)
	}
	if r.Failure != nil {
		return AnnounceResponse{}, "", &FailureError{Reason: *r.Failure}
	}
	if r.Interval < 0 || r.MinInterval < 0 || r.Complete < 0 || r.Incomplete < 0 {
		return AnnounceResponse{}, "", errors.New("decode reply: negative interval or count")
	}
	resp := AnnounceResponse{
		Interval:    secondsClamped(r.Interval),
		MinInterval: secondsClamped(r.MinInterval),
		Complete:    int(min(r.Complete, 1<<31)),
		Incomplete:  int(min(r.Incomplete, 1<<31)),
		Warning:     r.Warning,
	}
	var err error
	if resp.Peers, err = parsePeers(r.Peers, 4, resp.Peers); err != nil {
		return AnnounceResponse{}, "", fmt.Errorf("decode peers: %w", err)
	}
	if resp.Peers, err = parsePeers(r.Peers6, 16, resp.Peers); err != nil {
		return AnnounceResponse{}, "", fmt.Errorf("decode peers6: %w", err)
	}
	return resp, r.TrackerID, nil
}

func secondsClamped(s int64) time.Duration {
	return min(time.Duration(min(s, int64(maxInterval/time.Second)))*time.Second, maxInterval)
}

// decodeBencode decodes exactly one value with a string cap no larger than the input.
func decodeBencode(body []byte, v any) error {
	dec := bencode.NewDecoder(bytes.NewReader(body))
	dec.MaxStrLen = int64(len(body))
	if err := dec.Decode(v); err != nil {
		return err
	}
	return nil
}

// parsePeers appends compact peers (a string of ipLen+2-byte entries, BEP 23/7) or a BEP 3
// list of dictionaries to dst. Entries with port 0 or an unparsable ip are skipped.
func parsePeers(raw bencode.Bytes, ipLen int, dst []Peer) ([]Peer, error) {
	if len(raw) == 0 {
		return dst, nil
	}
	if raw[0] == 'l' {
		var list []dictPeer
		if err := decodeBencode(raw, &list); err != nil {
			return dst, err
		}
		return appendDictPeers(dst, list), nil
	}
	var s string
	if err := decodeBencode(raw, &s); err != nil {
		return dst, err
	}
	entry := ipLen + 2
	if len(s)%entry != 0 {
		return dst, fmt.Errorf("compact length %d is not a multiple of %d", len(s), entry)
	}
	for i := 0; i < len(s); i += entry {
		ip, _ := netip.AddrFromSlice([]byte(s[i : i+ipLen]))
		port := uint16(s[i+ipLen])<<8 | uint16(s[i+ipLen+1])
		if port != 0 && ip.IsValid() {
			dst = append(dst, Peer{Addr: netip.AddrPortFrom(ip.Unmap(), port)})
		}
	}
	return dst, nil
}

func appendDictPeers(dst []Peer, list []dictPeer) []Peer {
	for _, d := range list {
		ip, err := netip.ParseAddr(d.IP)
		if err != nil || d.Port <= 0 || d.Port > 65535 {
			continue
		}
		p := Peer{Addr: netip.AddrPortFrom(ip.Unmap(), uint16(d.Port))}
		if len(d.PeerID) == len(p.ID) {
			copy(p.ID[:], d.PeerID)
		}
		dst = append(dst, p)
	}
	return dst
}
