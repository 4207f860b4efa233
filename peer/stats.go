package peer

import (
	"net/netip"
	"slices"
	"time"

	"github.com/swarm-bt/swarm/peer/mse"
)

// rateWindow is the window, in seconds, of the rates shown in Stats.
const rateWindow = 5

// traffic counts the swarm's piece payload both ways.
type traffic struct {
	up, down             meter
	uploaded, downloaded int64
}

// Stats is a snapshot of a swarm. Byte counts are piece payload, without protocol overhead.
type Stats struct {
	Downloaded int64 // received by this session, including wasted blocks
	Uploaded   int64 // sent by this session
	Wasted     int64 // received but discarded (duplicates, corrupt pieces)
	Left       int64 // still missing
	Have       int   // verified pieces
	NumPieces  int
	// FailedPieces counts pieces that failed their hash check in this session.
	FailedPieces int
	DownRate     float64 // bytes per second over the last few seconds
	UpRate       float64
	Peers        []PeerStats // sorted by address
	// Known counts the peer addresses the swarm knows to dial (from its peer source and
	// AddPeers), connected or not.
	Known   int
	Seeding bool
	// Tracker is the state of the peer source (zero when there is no Announcer).
	Tracker TrackerStats
}

// TrackerStats is the state of the swarm's announces to its peer source.
type TrackerStats struct {
	LastAnnounce time.Time // when the last announce returned; zero before the first
	NextAnnounce time.Time // when the next regular (or retry) announce is due
	LastError    string    // error of the last announce; "" when it worked
	Failures     int       // failed announces in a row
	// Seeders, Leechers and Peers come from the last good reply.
	Seeders, Leechers, Peers int
}

// PeerStats describes one connected peer.
type PeerStats struct {
	Addr netip.AddrPort
	// Client is the client's name and version from its extension handshake (v), else
	// guessed from the peer ID; IDClient is the guess from the peer ID (BEP 20), "" if none.
	Client, IDClient string
	// Choked: we choke the peer. Interested: we are interested in it.
	Choked, Interested bool
	// PeerChoking: the peer chokes us. PeerInterested: the peer is interested in us.
	PeerChoking, PeerInterested bool
	Outgoing                    bool
	// Encryption is the connection's MSE method: mse.RC4, mse.Plaintext (an obfuscated
	// handshake, then plain messages) or 0 for plain BitTorrent.
	Encryption mse.Method
	// Snubbed: a request to the peer timed out and it has sent no block since.
	Snubbed bool
	// Source is where the peer came from (tracker, pex, dht, incoming, manual, magnet).
	Source PeerSource
	// Extensions: the peer speaks the extension protocol (BEP 10); Fast: the Fast
	// extension (BEP 6).
	Extensions, Fast bool
	// Requests is how many of our block requests the peer has not answered yet.
	Requests int
	// Seed: the peer has every piece.
	Seed                 bool
	DownRate, UpRate     float64 // bytes per second
	Downloaded, Uploaded int64
}

// stats builds the snapshot; it runs on the loop.
func (s *Swarm) stats() Stats {
	for _, p := range s.peers.byID { // the writers' counts since the last tick
		s.sampleUpload(p)
	}
	st := Stats{
		Downloaded:   s.traffic.downloaded,
		Uploaded:     s.traffic.uploaded,
		Wasted:       s.dl.wasted,
		Left:         s.dl.left,
		Have:         s.dl.have.Count(),
		NumPieces:    s.dl.have.Len(),
		FailedPieces: s.dl.failed,
		DownRate:     s.traffic.down.rate(rateWindow),
		UpRate:       s.traffic.up.rate(rateWindow),
		Seeding:      s.seeding,
		Known:        len(s.peers.known),
	}
	if s.cfg.Announcer != nil {
		a := &s.ann
		st.Tracker = TrackerStats{
			LastAnnounce: a.last, NextAnnounce: a.next, LastError: a.lastErr, Failures: a.fails,
			Seeders: a.seeders, Leechers: a.leechers, Peers: a.peers,
		}
	}
	for _, p := range s.peers.byID {
		st.Peers = append(st.Peers, PeerStats{
			Addr: p.addr, Client: p.clientOf(), IDClient: ClientName(p.peerID), Source: p.source, Extensions: p.ext.on, Fast: p.fast, Requests: len(p.requests),
			Choked: p.amChoking, Interested: p.amInterested,
			PeerChoking: p.peerChoking, PeerInterested: p.peerInterested,
			Outgoing: p.outgoing, Encryption: p.encryption, Snubbed: p.snubbed, Seed: p.has.Full(),
			DownRate: p.down.rate(rateWindow), UpRate: p.up.rate(rateWindow),
			Downloaded: p.downloaded, Uploaded: p.uploaded,
		})
	}
	slices.SortFunc(st.Peers, func(a, b PeerStats) int { return a.Addr.Compare(b.Addr) })
	return st
}
