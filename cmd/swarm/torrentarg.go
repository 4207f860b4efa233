package main

import (
	"fmt"
	"strings"
)

// checkTorrentArg refuses, with a message saying what to do instead, an operand of get or
// seed that is not a .torrent file that swarm could read: a magnet link given to seed (get
// resolves magnets before this, magnet.go) or a web address would otherwise read as "no
// such file".
func checkTorrentArg(arg string) error {
	lower := strings.ToLower(arg)
	switch {
	case strings.HasPrefix(lower, "magnet:"):
		return fmt.Errorf("%.60s...: a magnet link: seed reads .torrent files; "+
			"swarm get MAGNET --seed fetches the metadata, checks the content and seeds it", arg)
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		return fmt.Errorf("%s: a web address: get and seed read .torrent files from disk; download it first (curl -LO URL)", arg)
	}
	return nil
}
