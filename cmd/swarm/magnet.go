package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer"
)

// magnetFlags are get's flags for magnet links.
type magnetFlags struct {
	saveTorrent string // write the fetched torrent here
	cacheDir    string // verified metadata, by info-hash; "" = the user cache folder
}

// resolvedMagnet is a magnet link whose torrent is known: its path in the metadata cache and
// the peers to dial (x.pe and those that gave the metadata).
type resolvedMagnet struct {
	path  string
	peers []netip.AddrPort
}

// resolveMagnets replaces every magnet link among args by the path of its .torrent in the
// metadata cache, fetching the info dictionary from peers when the cache does not have it
// (BEP 9). It returns the peers to give each magnet's swarm, by info-hash.
func resolveMagnets(ctx context.Context, a *app, f *sessionFlags, ps *peer.Session, args []string, extra []netip.AddrPort) ([]string, map[metainfo.Hash][]netip.AddrPort, error) {
	out := make([]string, len(args))
	peers := map[metainfo.Hash][]netip.AddrPort{}
	magnets := 0
	for i, arg := range args {
		out[i] = arg
		if !isMagnet(arg) {
			continue
		}
		magnets++
		if magnets == 2 && f.magnet.saveTorrent != "" {
			return nil, nil, errors.New("--save-torrent takes one magnet link")
		}
		mg, err := metainfo.ParseMagnet(arg)
		if err != nil {
			return nil, nil, err
		}
		r, err := resolveMagnet(ctx, a, f, ps, mg, extra)
		if err != nil {
			return nil, nil, err
		}
		out[i] = r.path
		peers[mg.InfoHash] = r.peers
	}
	return out, peers, nil
}

func resolveMagnet(ctx context.Context, a *app, f *sessionFlags, ps *peer.Session, mg metainfo.Magnet, extra []netip.AddrPort) (resolvedMagnet, error) {
	dir, err := f.magnet.cache()
	if err != nil {
		return resolvedMagnet{}, err
	}
	path := filepath.Join(dir, mg.InfoHash.String()+".torrent")
	r := resolvedMagnet{path: path, peers: mg.PeerAddrs()}
	if m, err := metainfo.Load(path); err == nil && m.InfoHash == mg.InfoHash {
		a.logger.Info("metadata from the cache", "infohash", mg.InfoHash, "path", path)
		return r, saveTorrent(f.magnet.saveTorrent, m)
	}
	info, offered, err := fetchMetadata(ctx, a, f, ps, mg, append(r.peers, extra...))
	if err != nil {
		return r, err
	}
	m, err := metainfo.FromMagnet(mg, info)
	if err != nil {
		return r, err
	}
	if err := writeAtomic(path, m); err != nil {
		return r, fmt.Errorf("cache metadata: %w", err)
	}
	r.peers = append(r.peers, offered...)
	return r, saveTorrent(f.magnet.saveTorrent, m)
}

// fetchMetadata gets the info dictionary from the link's peers and trackers, showing
// progress unless quiet.
func fetchMetadata(ctx context.Context, a *app, f *sessionFlags, ps *peer.Session, mg metainfo.Magnet, addrs []netip.AddrPort) ([]byte, []netip.AddrPort, error) {
	cfg := peer.MetadataConfig{InfoHash: mg.InfoHash, Peers: addrs, Logger: a.logger}
	if len(mg.Trackers) > 0 {
		var tiers [][]string
		for _, tr := range mg.Trackers {
			tiers = append(tiers, []string{tr})
		}
		ann, err := newTrackerAnnouncer(tiers, f.bind, a.logger)
		if err != nil {
			return nil, nil, err
		}
		cfg.Announcer = ann
	}
	cfg.Announcer = joinAnnouncers(cfg.Announcer, f.dht.svc.announcer())
	name := mg.Name
	if name == "" {
		name = mg.InfoHash.String()
	}
	var last peer.MetadataProgress
	var shown time.Time
	if !f.quiet {
		cfg.Progress = func(p peer.MetadataProgress) {
			if p == last || time.Since(shown) < 500*time.Millisecond && p.Have != p.Total {
				return
			}
			last, shown = p, time.Now()
			fmt.Fprintf(a.stderr, "%s: fetching metadata: %d peers, %d offer it, %d/%d pieces\n", name, p.Connected, p.Offering, p.Have, p.Total)
		}
	}
	start := time.Now()
	info, offered, err := ps.FetchMetadata(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("magnet %s: %w", name, err)
	}
	a.logger.Info("metadata fetched", "infohash", mg.InfoHash, "bytes", len(info), "elapsed", time.Since(start).Round(time.Millisecond))
	return info, offered, nil
}

// cache is the metadata cache folder, created if needed.
func (m *magnetFlags) cache() (string, error) {
	dir := m.cacheDir
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("metadata cache: %w (set --metadata-cache)", err)
		}
		dir = filepath.Join(base, "swarm", "metadata")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("metadata cache: %w", err)
	}
	return dir, nil
}

func saveTorrent(path string, m *metainfo.MetaInfo) error {
	if path == "" {
		return nil
	}
	if err := writeAtomic(path, m); err != nil {
		return fmt.Errorf("--save-torrent: %w", err)
	}
	return nil
}

// writeAtomic writes m atomically (a temporary file renamed into place).
func writeAtomic(path string, m *metainfo.MetaInfo) error {
	raw, err := m.Marshal()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".swarm-torrent-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(raw)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
	}
	return err
}
