package tracker

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

func (s *Server) handleAnnounce(w http.ResponseWriter, r *http.Request) {
	rb := s.bufs.Get().(*replyBuf)
	defer s.bufs.Put(rb)
	start := time.Now()
	b, err := s.announce(r, rb)
	if err != nil {
		b = s.failure(r.Context(), rb.b[:0], "announce", err)
	}
	writeBencode(w, b)
	rb.b = b
	s.metrics.announceSeconds.Observe(time.Since(start).Seconds())
}

// announce parses one HTTP announce, runs it through Announce and appends the reply to b.
func (s *Server) announce(r *http.Request, rb *replyBuf) ([]byte, error) {
	b := rb.b[:0]
	q, err := parseAnnounce(r.URL.RawQuery)
	if err != nil {
		return b, err
	}
	ip, ok := s.peerIP(r)
	if !ok {
		return b, errNoAddress
	}
	res, err := s.Announce(r.Context(), q.AnnounceRequest, ip, rb.peers[:0])
	if err != nil {
		return b, err
	}
	rb.peers = res.Peers
	reply := announceReply{
		Counts: res.Counts, Interval: res.Interval, MinInterval: res.MinInterval,
		Peers: res.Peers, Compact: q.Compact, IPv6: ip.Is6(),
	}
	return reply.appendTo(b), nil
}

// peerIP returns the requester's address: from the connection, or, behind a trusted proxy,
// from the last X-Forwarded-For entry (the one our proxy appended). The ip= parameter is
// ignored, as opentracker does: peers are keyed by address, so a client free to name its
// address could stop or replace anyone's entry.
func (s *Server) peerIP(r *http.Request) (netip.Addr, bool) {
	if s.cfg.TrustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if a, err := netip.ParseAddr(strings.TrimSpace(last)); err == nil {
				return a.Unmap(), true
			}
		}
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

// failure writes the bencoded failure reply for err.
func (s *Server) failure(ctx context.Context, b []byte, op string, err error) []byte {
	reason, retry := s.FailureReason(ctx, op, err)
	return appendFailure(b, reason, retry)
}

var textPlain = []string{"text/plain"}

func writeBencode(w http.ResponseWriter, b []byte) {
	h := w.Header()
	h["Content-Type"] = textPlain
	h["Date"] = nil // clients ignore it; formatting it costs more than the rest of the headers
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
