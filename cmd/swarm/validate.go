package main

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/bits"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/swarm-bt/swarm/metainfo"
)

// Checks of command-line values that make no sense, done before any work starts, so that
// nonsense is refused with a message instead of silently replaced by a default.

// check refuses get and seed flag values that make no sense.
func (f *sessionFlags) check() error {
	switch {
	case f.maxPeers < 1:
		return fmt.Errorf("--max-peers %d: want 1 or more", f.maxPeers)
	case f.perIP < 1:
		return fmt.Errorf("--max-conns-per-ip %d: want 1 or more", f.perIP)
	case f.seedRatio < 0 || math.IsNaN(f.seedRatio) || math.IsInf(f.seedRatio, 0):
		return fmt.Errorf("--seed-ratio %v: want 0 (off) or a positive ratio such as 1.5", f.seedRatio)
	case f.seedTime < 0:
		return fmt.Errorf("--seed-time %v: want 0 (off) or a positive duration such as 30m", f.seedTime)
	case f.recheckEvery < 0:
		return fmt.Errorf("--recheck-every %v: want 0 (off) or a positive duration such as 1h", f.recheckEvery)
	case f.port < 0 || f.port > 65535:
		return fmt.Errorf("--port %d: want 0 (any free port) to 65535", f.port)
	case f.bind != "" && net.ParseIP(f.bind) == nil:
		return fmt.Errorf("--bind %q: want an IP address such as 127.0.0.1 or ::1", f.bind)
	}
	return nil
}

// Piece lengths swarm creates (BEP 3 sets no bound; 16 KiB is one block, and 128 MiB is
// metainfo.MaxPieceLength).
const (
	minPieceLength    = 16 << 10
	minPieceExponent  = 14
	maxPieceExponent  = 27
	pieceLengthBounds = "a power of two from 16KiB to 128MiB"
)

// parsePieceLength reads a piece length: a size such as 256KiB, or mktorrent's exponent
// form, where 18 means 2^18 bytes (a plain number under 64 cannot be a byte count: pieces are
// at least 16 KiB).
func parsePieceLength(flag, s string) (int64, error) {
	if e, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && e >= 0 && e < 64 {
		if e < minPieceExponent || e > maxPieceExponent {
			return 0, fmt.Errorf("%s %s: 2^%d is out of range: want an exponent from %d to %d (%s)",
				flag, s, e, minPieceExponent, maxPieceExponent, pieceLengthBounds)
		}
		return 1 << e, nil
	}
	n, err := parseSize(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", flag, err)
	}
	if n < minPieceLength || n > metainfo.MaxPieceLength || bits.OnesCount64(uint64(n)) != 1 {
		return 0, fmt.Errorf("%s %s: want %s (or its exponent, 14 to 27)", flag, s, pieceLengthBounds)
	}
	return n, nil
}

// trackerSchemes are the tracker URL schemes swarm announces to.
var trackerSchemes = map[string]bool{"http": true, "https": true, "udp": true}

// checkTrackerURL refuses a tracker URL swarm could not announce to: malformed, of another
// scheme (ftp, wss), without a host, or udp without a port.
func checkTrackerURL(u string) error {
	pu, err := url.Parse(u)
	if err != nil {
		return fmt.Errorf("tracker %q: not a URL", u)
	}
	if !trackerSchemes[pu.Scheme] {
		return fmt.Errorf("tracker %q: want an http://, https:// or udp:// URL", u)
	}
	if pu.Hostname() == "" {
		return fmt.Errorf("tracker %q: no host", u)
	}
	if pu.Scheme == "udp" && pu.Port() == "" {
		return fmt.Errorf("tracker %q: a udp tracker needs a port, such as udp://host:6969", u)
	}
	return nil
}

// usableTrackers splits a torrent's tiers into those swarm can announce to (tiers keep
// their order; empty ones are dropped) and the URLs it cannot use.
func usableTrackers(tiers [][]string) (usable [][]string, unusable []string) {
	for _, tier := range tiers {
		var keep []string
		for _, u := range tier {
			if checkTrackerURL(u) == nil {
				keep = append(keep, u)
			} else {
				unusable = append(unusable, u)
			}
		}
		if len(keep) > 0 {
			usable = append(usable, keep)
		}
	}
	return usable, unusable
}

// errNoContent: seed found none of a torrent's files.
var errNoContent = errors.New("none of the content is there")

// checkContentPresent refuses to seed from a folder that holds none of the torrent's data
// (a typo in -d): seed would otherwise start downloading everything into it. A file that is
// there but empty counts as missing.
func checkContentPresent(mi *metainfo.MetaInfo, dir string) error {
	for _, e := range mi.Info.FileEntries() {
		if e.Length == 0 {
			continue
		}
		fi, err := os.Stat(filepath.Join(dir, e.Path))
		if err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
			return nil
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil // other trouble (permissions, a file for a folder): opening reports it
		}
	}
	return fmt.Errorf("seed %s: %w in %s (looked for %s); check -d, or use --allow-missing (or get) to download it",
		mi.Info.Name, errNoContent, dir, filepath.Join(dir, mi.Info.Name))
}

// usableTrackers returns the torrent's tiers that swarm can announce to, and tells the user
// about the trackers it cannot use and when nothing will find peers (no usable tracker, no
// --peer, no DHT): such a download would otherwise sit at 0% without a word.
func (s *session) usableTrackers() [][]string {
	usable, unusable := usableTrackers(s.mi.Trackers())
	for _, u := range unusable {
		fmt.Fprintf(s.a.stderr, "%s: skipping %v\n", s.mi.Info.Name, checkTrackerURL(u))
	}
	dht := s.flags.dht.svc != nil && !s.mi.Info.Private
	if len(usable) == 0 && len(s.flags.peers) == 0 && s.linkPeers == 0 && !dht {
		fmt.Fprintf(s.a.stderr, "%s: no peer sources: no tracker swarm can use and no --peer; "+
			"only peers that connect to us will be found\n", s.mi.Info.Name)
	}
	return usable
}
