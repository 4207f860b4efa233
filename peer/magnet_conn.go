package peer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/swarm-bt/swarm/peer/wire"
)

// errNoExtensions: the peer does not speak the extension protocol, so it cannot give metadata.
var errNoExtensions = errors.New("peer does not support the extension protocol (BEP 10)")

// connect dials addr, shakes hands, sends our extension handshake, then reads until ctx ends
// or the connection fails, sending what matters to the fetch loop. It always reports its end.
func (f *fetcher) connect(ctx context.Context, id int, addr netip.AddrPort) {
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	nc, err := f.handshake(cctx, addr)
	if err != nil {
		f.report(ctx, fetchEvent{id: id, addr: addr, err: err})
		return
	}
	context.AfterFunc(cctx, func() { _ = nc.Close() })
	c := &fetchConn{addr: addr, out: make(chan []byte, 64), cancel: cancel}
	c.out <- f.extHandshake(nc) // by the writer: both sides may write first
	if !f.report(ctx, fetchEvent{id: id, addr: addr, conn: c}) {
		return
	}
	errc := make(chan error, 1)
	go func() { errc <- f.writeFrames(cctx, nc, c.out) }()
	err = f.readFrames(cctx, id, nc)
	cancel()
	if werr := <-errc; err == nil {
		err = werr
	}
	if err == nil {
		err = net.ErrClosed
	}
	f.report(ctx, fetchEvent{id: id, addr: addr, err: err})
}

func (f *fetcher) report(ctx context.Context, ev fetchEvent) bool {
	select {
	case f.events <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

// handshake dials and exchanges the BitTorrent handshake: through the session (its
// encryption policy, its peer ID) when the fetch runs in one, else in plain text.
func (f *fetcher) handshake(ctx context.Context, addr netip.AddrPort) (net.Conn, error) {
	if f.sess != nil {
		nc, hs, err := f.sess.connect(ctx, f.cfg.InfoHash, addr, f.cfg.Timeouts)
		if err != nil {
			return nil, err
		}
		if !hs.Reserved.Has(wire.ExtensionByte, wire.ExtensionBit) {
			_ = nc.Close()
			return nil, errNoExtensions
		}
		return nc, nil
	}
	dctx, cancel := context.WithTimeout(ctx, f.cfg.Timeouts.Dial)
	nc, err := f.cfg.Dialer(dctx, "tcp", addr.String())
	cancel()
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	err = withDeadline(ctx, nc, f.cfg.Timeouts.Handshake, func() error {
		ours := wire.Handshake{Reserved: ourReserved(), InfoHash: f.cfg.InfoHash, PeerID: f.cfg.PeerID}
		if err := wire.WriteHandshake(nc, ours); err != nil {
			return err
		}
		hs, err := wire.ReadHandshake(nc)
		switch {
		case err != nil:
			return err
		case hs.InfoHash != f.cfg.InfoHash:
			return ErrWrongInfoHash
		case hs.PeerID == f.cfg.PeerID:
			return ErrSelf
		case !hs.Reserved.Has(wire.ExtensionByte, wire.ExtensionBit):
			return errNoExtensions
		}
		return nil
	})
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	return nc, nil
}

// extHandshake is our extension handshake frame while fetching: ut_metadata only.
func (f *fetcher) extHandshake(nc net.Conn) []byte {
	eh := wire.ExtHandshake{M: map[string]int{wire.ExtMetadata: ourMetadataID}, V: ClientVersion,
		Port: f.cfg.Port, Reqq: maxServeQueue}
	if ap, err := netip.ParseAddrPort(nc.RemoteAddr().String()); err == nil {
		eh.YourIP = ap.Addr()
	}
	return wire.AppendMessage(nil, wire.Message{ID: wire.Extended, ExtID: wire.ExtHandshakeID, Payload: eh.Marshal()})
}

func (f *fetcher) writeFrames(ctx context.Context, nc net.Conn, out <-chan []byte) error {
	w := deadlineWriter{nc: nc, timeout: f.cfg.Timeouts.Idle}
	for {
		select {
		case b := <-out:
			if _, err := w.Write(b); err != nil {
				return fmt.Errorf("write: %w", err)
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// readFrames reads messages, passing on extension handshakes and ut_metadata messages; the
// rest (bitfield, haves, choke...) means nothing before we have the metadata.
func (f *fetcher) readFrames(ctx context.Context, id int, nc net.Conn) error {
	r := wire.NewReader(nc, wire.Limits{AnyBitfield: true})
	for {
		if err := nc.SetReadDeadline(time.Now().Add(f.cfg.Timeouts.Idle)); err != nil {
			return err
		}
		m, err := r.ReadMessage()
		if err != nil {
			return err
		}
		if m.ID != wire.Extended {
			continue
		}
		ev := fetchEvent{id: id}
		switch m.ExtID {
		case wire.ExtHandshakeID:
			hs, err := wire.ParseExtHandshake(m.Payload)
			if err != nil {
				return err
			}
			ev.hs = &hs
		case ourMetadataID:
			mm, err := wire.ParseMetadataMsg(m.Payload)
			if err != nil {
				return err
			}
			ev.msg = &mm
		default:
			continue
		}
		if !f.report(ctx, ev) {
			return nil
		}
	}
}
