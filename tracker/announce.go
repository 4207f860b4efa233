package tracker

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Reasons sent to clients for refusals that are not about a malformed query.
var (
	errNotAllowed  = &ClientError{Reason: "info_hash not allowed on this tracker", kind: "not_allowed"}
	errRateLimited = &ClientError{Reason: "rate limit exceeded, slow down", kind: "rate_limited"}
	errFull        = &ClientError{Reason: "tracker is full", kind: "full"}
	errNoAddress   = &ClientError{Reason: "cannot determine peer address"}
)

func (s *Server) handleAnnounce(w http.ResponseWriter, r *http.Request) {
	rb := s.bufs.Get().(*replyBuf)
	defer s.bufs.Put(rb)
	now := s.cfg.Now()
	b, ev, err := s.announce(r, rb, now)
	if err != nil {
		b = s.failure(r.Context(), rb.b[:0], "announce", err)
	} else {
		s.metrics.announces[ev].Inc()
	}
	writeBencode(w, b)
	rb.b = b
	s.metrics.announceSeconds.Observe(s.cfg.Now().Sub(now).Seconds())
}

// announce validates and records one announce and appends the reply to b.
func (s *Server) announce(r *http.Request, rb *replyBuf, now time.Time) ([]byte, Event, error) {
	b := rb.b[:0]
	q, err := parseAnnounce(r.URL.RawQuery)
	if err != nil {
		return b, 0, err
	}
	ip, ok := s.peerIP(r, q.IP)
	if !ok {
		return b, 0, errNoAddress
	}
	if s.limiter != nil && !s.limiter.allow(ip, now) {
		return b, 0, errRateLimited
	}
	if s.cfg.Allow != nil && !s.cfg.Allow(q.InfoHash) {
		return b, 0, errNotAllowed
	}
	reply := announceReply{
		Interval: s.cfg.Interval, MinInterval: s.cfg.MinInterval,
		Compact: q.Compact, NoPeerID: q.NoPeerID, IPv6: ip.Is6(),
	}
	req := PutRequest{
		InfoHash: q.InfoHash,
		Peer:     Peer{ID: q.PeerID, Addr: netip.AddrPortFrom(ip, q.Port)},
		Seeder:   q.Left == 0, Completed: q.Event == EventCompleted,
		Now: now, NumWant: q.NumWant,
	}
	if q.Event == EventStopped {
		if req.Seeder {
			// Record the final state first so that a download finished since the last
			// announce is counted before the peer goes.
			req.NumWant = 0
			_, _, _ = s.store.Put(req, nil)
		}
		reply.Counts = s.store.Remove(q.InfoHash, q.PeerID)
		return reply.appendTo(b), q.Event, nil
	}
	reply.Peers, reply.Counts, err = s.store.Put(req, rb.peers[:0])
	rb.peers = reply.Peers
	switch {
	case errors.Is(err, ErrTooManySwarms):
		return b, 0, errFull
	case errors.Is(err, ErrSwarmFull):
		s.log.Debug("swarm full, peer not stored", "infohash", q.InfoHash)
	case err != nil:
		return b, 0, err
	}
	return reply.appendTo(b), q.Event, nil
}

// peerIP returns the requester's address: from the connection, or, behind a trusted proxy,
// from ip= or the last X-Forwarded-For entry (the one our proxy appended).
func (s *Server) peerIP(r *http.Request, param netip.Addr) (netip.Addr, bool) {
	if s.cfg.TrustProxy {
		if param.IsValid() {
			return param.Unmap(), true
		}
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

// failure turns err into a bencoded failure reply: a *ClientError's reason as is, anything
// else a generic reason, logged once here.
func (s *Server) failure(ctx context.Context, b []byte, op string, err error) []byte {
	ce, ok := errors.AsType[*ClientError](err)
	if !ok {
		s.log.ErrorContext(ctx, op+" failed", "err", err)
		s.metrics.failures("internal").Inc()
		return appendFailure(b, "internal tracker error", 0)
	}
	s.metrics.failures(ce.kindOrDefault()).Inc()
	if s.log.Enabled(ctx, slog.LevelDebug) {
		s.log.DebugContext(ctx, op+" refused", "reason", ce.Reason)
	}
	var retry time.Duration
	if ce == errRateLimited {
		retry = time.Minute
	}
	return appendFailure(b, ce.Reason, retry)
}

var textPlain = []string{"text/plain"}

func writeBencode(w http.ResponseWriter, b []byte) {
	h := w.Header()
	h["Content-Type"] = textPlain
	h["Date"] = nil // clients ignore it; formatting it costs more than the rest of the headers
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
