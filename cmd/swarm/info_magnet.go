package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/swarm-bt/swarm/metainfo"
)

// magnetJSON is what swarm info --json prints for a magnet link.
type magnetJSON struct {
	InfoHash string   `json:"info_hash"`
	Name     string   `json:"name,omitempty"`
	Trackers []string `json:"trackers"`
	WebSeeds []string `json:"web_seeds,omitempty"`
	Peers    []string `json:"peers,omitempty"`
	Magnet   string   `json:"magnet"`
}

// isMagnet reports whether arg is meant as a magnet link rather than a file name.
func isMagnet(arg string) bool {
	return len(arg) >= 7 && strings.EqualFold(arg[:7], "magnet:")
}

// writeMagnetInfo prints what a magnet link holds.
func writeMagnetInfo(w io.Writer, link string, asJSON bool) error {
	mg, err := metainfo.ParseMagnet(link)
	if err != nil {
		return err
	}
	v := magnetJSON{InfoHash: mg.InfoHash.String(), Name: mg.Name, Trackers: mg.Trackers,
		WebSeeds: mg.WebSeeds, Peers: mg.Peers, Magnet: mg.String()}
	if v.Trackers == nil {
		v.Trackers = []string{}
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	name := v.Name
	if name == "" {
		name = "(none given)"
	}
	fmt.Fprintf(w, "Magnet link (the info dictionary is fetched from peers)\nName:       %s\nInfo-hash:  %s\n", name, v.InfoHash)
	list := func(title string, vals []string) {
		fmt.Fprintf(w, "%s:%s\n", title, infoNone(len(vals)))
		for _, x := range vals {
			fmt.Fprintf(w, "  %s\n", x)
		}
	}
	list("Trackers", v.Trackers)
	if len(v.WebSeeds) > 0 {
		list("Web seeds", v.WebSeeds)
	}
	list("Peers", v.Peers)
	_, err = fmt.Fprintf(w, "Magnet: %s\n", v.Magnet)
	return err
}
