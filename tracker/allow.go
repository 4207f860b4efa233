package tracker

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/swarm-bt/swarm/metainfo"
)

// AllowList is a set of info-hashes a closed tracker serves.
type AllowList map[metainfo.Hash]struct{}

// Contains reports whether h is listed; use it as Config.Allow.
func (a AllowList) Contains(h metainfo.Hash) bool {
	_, ok := a[h]
	return ok
}

// LoadAllowList reads path: a file of hex info-hashes, one a line ("#" starts a comment, the
// format opentracker's -w uses), or a directory whose *.torrent files are listed by info-hash.
func LoadAllowList(path string) (AllowList, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load allow list: %w", err)
	}
	if st.IsDir() {
		return loadTorrentDir(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load allow list: %w", err)
	}
	defer f.Close()
	return ReadAllowList(f)
}

// ReadAllowList reads hex info-hashes, one a line; blank lines and "#" comments are skipped.
func ReadAllowList(r io.Reader) (AllowList, error) {
	a := AllowList{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		h, err := metainfo.HashFromHex(line)
		if err != nil {
			return nil, fmt.Errorf("read allow list: line %d: %w", n, err)
		}
		a[h] = struct{}{}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read allow list: %w", err)
	}
	return a, nil
}

func loadTorrentDir(dir string) (AllowList, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.torrent"))
	if err != nil {
		return nil, fmt.Errorf("load allow list: %w", err)
	}
	a := AllowList{}
	for _, p := range paths {
		m, err := metainfo.Load(p)
		if err != nil {
			return nil, fmt.Errorf("load allow list: %w", err)
		}
		a[m.InfoHash] = struct{}{}
	}
	return a, nil
}
