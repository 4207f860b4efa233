package tracker

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"time"

	"github.com/swarm-bt/swarm/metainfo"
)

// Reasons sent to clients for refusals that are not about a malformed query.
var (
	errNotAllowed   = &ClientError{Reason: "info_hash not allowed on this tracker", kind: "not_allowed"}
	errRateLimited  = &ClientError{Reason: "rate limit exceeded, slow down", kind: "rate_limited"}
	errNewSwarms    = &ClientError{Reason: "too many new torrents from your address, slow down", kind: "rate_limited"}
	errFull         = &ClientError{Reason: "tracker is full", kind: "full"}
	errNoAddress    = &ClientError{Reason: "cannot determine peer address"}
	errUnavailable  = &ClientError{Reason: "tracker temporarily unavailable", kind: "unavailable"}
	errNoFullScrape = &ClientError{Reason: "full scrape is disabled: name info_hash values", kind: "not_allowed"}
	// errCanceled is for a request whose client went away: nobody reads the reason.
	errCanceled = &ClientError{Reason: "request cancelled", kind: "cancelled"}
)

// AnnounceResult is the answer to an announce, whatever the transport that carries it.
type AnnounceResult struct {
	Interval    time.Duration
	MinInterval time.Duration
	Counts      Counts
	// Peers is the sample, appended to the dst slice given to Announce; IDs are zero.
	Peers []Peer
}

// Announce records one parsed announce that came from src, the source address of the
// connection or packet (or what a trusted proxy reported), and returns the reply. This is the
// tracker's core, shared by every transport: the per-address rate limits, the allow list, the
// caps and the store all apply here. req.NumWant below zero means the default; above the
// maximum (200) it is capped. Errors are to be turned into a client's failure reason with
// FailureReason.
func (s *Server) Announce(ctx context.Context, req AnnounceRequest, src netip.Addr, dst []Peer) (AnnounceResult, error) {
	now := s.cfg.Now()
	src = src.Unmap()
	if !src.IsValid() || req.Port == 0 {
		return AnnounceResult{}, errNoAddress
	}
	if s.limiter != nil && !s.limiter.allow(src, now) {
		return AnnounceResult{}, errRateLimited
	}
	if s.cfg.Allow != nil && !s.cfg.Allow(req.InfoHash) {
		return AnnounceResult{}, errNotAllowed
	}
	numWant := req.NumWant
	if numWant < 0 {
		numWant = defaultNumWant
	}
	mayCreate := s.newSwarms == nil || s.newSwarms.peek(src, now)
	put := PutRequest{
		InfoHash: req.InfoHash, Addr: netip.AddrPortFrom(src, req.Port),
		Seeder: req.Left == 0, Completed: req.Event == EventCompleted, Stopped: req.Event == EventStopped,
		NoCreate: !mayCreate, Now: now, NumWant: min(numWant, maxNumWant),
	}
	if put.Stopped {
		put.NumWant = 0
	}
	res, err := s.store.Put(ctx, put, dst)
	if res.Created && s.newSwarms != nil {
		s.newSwarms.allow(src, now)
	}
	switch {
	case errors.Is(err, ErrTooManySwarms) && !mayCreate:
		return AnnounceResult{}, errNewSwarms
	case errors.Is(err, ErrTooManySwarms):
		return AnnounceResult{}, errFull
	case errors.Is(err, ErrSwarmFull):
		s.log.DebugContext(ctx, "swarm full, peer not stored", "infohash", req.InfoHash)
	case err != nil:
		return AnnounceResult{}, s.storeError(err)
	}
	s.metrics.announces[req.Event].Inc()
	return AnnounceResult{
		Interval: s.cfg.Interval, MinInterval: s.cfg.MinInterval,
		Counts: res.Counts, Peers: res.Peers,
	}, nil
}

// Scrape appends the counts of each info-hash (zero for unknown swarms) for a client at src,
// which the per-address rate limit applies to.
func (s *Server) Scrape(ctx context.Context, src netip.Addr, hs []metainfo.Hash, dst []Counts) ([]Counts, error) {
	if s.limiter != nil && !s.limiter.allow(src.Unmap(), s.cfg.Now()) {
		return dst, errRateLimited
	}
	out, err := s.store.Scrape(ctx, hs, dst)
	if err != nil {
		return dst, s.storeError(err)
	}
	s.metrics.scrapes.Inc()
	return out, nil
}

// storeError turns an outage of the store's backing service into a reason clients see; other
// errors stay internal.
func (s *Server) storeError(err error) error {
	switch {
	case errors.Is(err, context.Canceled):
		return errors.Join(errCanceled, err)
	case errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded):
		return errors.Join(errUnavailable, err)
	}
	return err
}

// FailureReason turns an error from Announce or Scrape into the failure reason to send a
// client, and a BEP 31 retry hint (0 for none), counting it in the metrics. The reason of a
// *ClientError is sent as is; anything else is logged once here and answered generically.
func (s *Server) FailureReason(ctx context.Context, op string, err error) (string, time.Duration) {
	ce, ok := errors.AsType[*ClientError](err)
	if !ok {
		s.log.ErrorContext(ctx, op+" failed", "err", err)
		s.metrics.failures("internal").Inc()
		return "internal tracker error", 0
	}
	s.metrics.failures(ce.kindOrDefault()).Inc()
	switch ce {
	case errRateLimited, errNewSwarms:
		return ce.Reason, time.Minute
	case errUnavailable:
		if s.log.Enabled(ctx, slog.LevelWarn) {
			s.log.WarnContext(ctx, op+" failed: store unavailable", "err", err)
		}
		return ce.Reason, time.Minute
	}
	if s.log.Enabled(ctx, slog.LevelDebug) {
		s.log.DebugContext(ctx, op+" refused", "reason", ce.Reason)
	}
	return ce.Reason, 0
}
