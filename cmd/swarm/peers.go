package main

import (
	"net/netip"
	"slices"

	"github.com/swarm-bt/swarm/peer"
)

// maxLedgerPeers bounds the peers --stats lists; later ones are left out.
const maxLedgerPeers = 1000

// peerSummary is one peer in the --stats JSON: the last state seen while it was connected
// (sampled with the progress display, twice a second).
type peerSummary struct {
	Addr string `json:"addr"`
	// Client is the name and version the peer gives (BEP 10 v), else guessed from its peer
	// ID; PeerIDClient is the guess from the peer ID (BEP 20).
	Client       string `json:"client,omitempty"`
	PeerIDClient string `json:"peer_id_client,omitempty"`
	// Source is where the peer came from: tracker, pex, dht, incoming, manual or magnet.
	Source   string `json:"source"`
	Outgoing bool   `json:"outgoing"`
	// Extensions and Fast: the peer speaks BEP 10 and BEP 6.
	Extensions bool `json:"extensions"`
	Fast       bool `json:"fast"`
	// Encryption is "rc4", "plaintext" (an MSE handshake, then plain messages) or "none".
	Encryption string `json:"encryption"`
	Downloaded int64  `json:"downloaded"`
	Uploaded   int64  `json:"uploaded"`
}

// peerLedger collects the peers seen during a session, for --stats.
type peerLedger struct {
	m map[netip.AddrPort]peerSummary
}

// note records the connected peers of a Stats snapshot.
func (l *peerLedger) note(peers []peer.PeerStats) {
	if l.m == nil {
		l.m = map[netip.AddrPort]peerSummary{}
	}
	for _, p := range peers {
		if _, ok := l.m[p.Addr]; !ok && len(l.m) >= maxLedgerPeers {
			continue
		}
		l.m[p.Addr] = peerSummary{Addr: p.Addr.String(), Client: p.Client, PeerIDClient: p.IDClient, Source: string(p.Source),
			Outgoing: p.Outgoing, Extensions: p.Extensions, Fast: p.Fast,
			Encryption: p.Encryption.String(), Downloaded: p.Downloaded, Uploaded: p.Uploaded}
	}
}

// list returns the peers sorted by address (an empty list, not null, when none was seen).
func (l *peerLedger) list() []peerSummary {
	keys := make([]netip.AddrPort, 0, len(l.m))
	for k := range l.m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, netip.AddrPort.Compare)
	out := make([]peerSummary, 0, len(keys))
	for _, k := range keys {
		out = append(out, l.m[k])
	}
	return out
}
