package main

import (
	"fmt"
	"strings"
)

// checkTorrentArg refuses, with a message saying what to do instead, an operand of get or
// seed that is not a .torrent file that swarm could read: a magnet link or a web address
// would otherwise read as "no such file". When get learns magnets, this is the place to
// route them instead.
func checkTorrentArg(arg string) error {
	lower := strings.ToLower(arg)
	switch {
	case strings.HasPrefix(lower, "magnet:"):
		return fmt.Errorf("%.60s...: a magnet link: get and seed read .torrent files and cannot fetch a torrent's metadata from peers yet; "+
			"save the .torrent file, or give the magnet to the daemon (swarm ctl add MAGNET)", arg)
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		return fmt.Errorf("%s: a web address: get and seed read .torrent files from disk; download it first (curl -LO URL)", arg)
	}
	return nil
}
