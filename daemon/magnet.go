package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer"
)

// StateMetadata: a magnet link whose info dictionary is being fetched from peers (BEP 9).
const StateMetadata State = "metadata"

// addMagnet adds a magnet link: the record keeps the link, so that a restart fetches the
// metadata again if it was not cached yet.
func (d *Daemon) addMagnet(link, dir string, paused bool, lim Limits) (Status, error) {
	mg, err := metainfo.ParseMagnet(link)
	if err != nil {
		return Status{}, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	name := mg.Name
	if name == "" {
		name = mg.InfoHash.String()
	}
	rec := record{InfoHash: mg.InfoHash.String(), Name: name, SaveDir: dir, Paused: paused,
		AddedAt: time.Now().UTC(), Limits: lim, Magnet: mg.String()}
	return d.insert(newTorrent(mg.InfoHash, nil, rec))
}

// startFetch fetches the metadata of a magnet torrent off the registry lock; d.mu is held.
func (d *Daemon) startFetch(ctx context.Context, t *torrent) {
	mg, err := metainfo.ParseMagnet(t.rec.Magnet)
	if err != nil {
		t.fail(fmt.Errorf("magnet link: %w", err))
		return
	}
	cfg := peer.MetadataConfig{
		InfoHash: mg.InfoHash, PeerID: d.sess.PeerID(), Port: d.sess.Port(), Peers: mg.PeerAddrs(),
		Dialer: d.dialer(), Logger: d.log, Timeouts: d.cfg.Timeouts,
		Progress: func(p peer.MetadataProgress) {
			d.mu.Lock()
			t.metaProg = p
			d.mu.Unlock()
		},
	}
	if cfg.Announcer, _, err = d.peerSources(magnetTiers(mg), false); err != nil {
		t.fail(err)
		return
	}
	fctx, cancel := context.WithCancel(ctx)
	t.fetching, t.cancelFetch = true, cancel
	d.wg.Go(func() {
		defer cancel()
		mi, raw, offered, err := fetchMeta(fctx, mg, cfg)
		if err == nil {
			err = d.saveTorrent(mi, raw) // cached before the torrent uses it
		}
		d.mu.Lock()
		t.fetching, t.cancelFetch = false, nil
		switch {
		case t.removed || d.closed:
		case err != nil && fctx.Err() == nil:
			t.fail(fmt.Errorf("fetch metadata: %w", err))
		case err == nil:
			t.mi, t.magnet, t.rec.Name = mi, mi.Magnet(), mi.Info.Name
			t.peers = append(mg.PeerAddrs(), offered...)
			d.dirty = true
			d.log.Info("metadata fetched", "infohash", t.ih, "name", mi.Info.Name)
		}
		d.mu.Unlock()
		d.poke()
		d.subs.publish(Event{Kind: EventChanged, InfoHash: t.ih.String()})
	})
}

func fetchMeta(ctx context.Context, mg metainfo.Magnet, cfg peer.MetadataConfig) (*metainfo.MetaInfo, []byte, []netip.AddrPort, error) {
	info, offered, err := peer.FetchMetadata(ctx, cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	mi, err := metainfo.FromMagnet(mg, info)
	if err != nil {
		return nil, nil, nil, err
	}
	raw, err := mi.Marshal()
	if err != nil {
		return nil, nil, nil, errors.Join(errors.New("encode fetched torrent"), err)
	}
	return mi, raw, offered, nil
}
