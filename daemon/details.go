package daemon

import (
	"encoding/base64"
	"fmt"
	"time"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer"
	"github.com/swarm-bt/swarm/peer/bitfield"
)

// Peer is one entry of a torrent's peer ledger: every peer known, connected or not.
type Peer struct {
	Addr   string `json:"addr"`
	Source string `json:"source"` // tracker, dht, pex, incoming, manual
	Client string `json:"client"`
	// State is connected, connecting, backing off, failed, idle or banned; Reason says why.
	State    string    `json:"state"`
	Reason   string    `json:"reason,omitempty"`
	Fails    int       `json:"fails,omitempty"`
	NextDial time.Time `json:"next_dial,omitzero"`
	Outgoing bool      `json:"outgoing"`
	// Encryption is the connection's MSE method: "rc4", "plaintext" or "" (none).
	Encryption string `json:"encryption,omitempty"`
	// AmChoking: we choke the peer; AmInterested: we want its pieces; PeerChoking and
	// PeerInterested are the other way round.
	AmChoking      bool    `json:"am_choking"`
	AmInterested   bool    `json:"am_interested"`
	PeerChoking    bool    `json:"peer_choking"`
	PeerInterested bool    `json:"peer_interested"`
	Snubbed        bool    `json:"snubbed"`
	DownRate       float64 `json:"down_rate"`
	UpRate         float64 `json:"up_rate"`
	Downloaded     int64   `json:"downloaded"`
	Uploaded       int64   `json:"uploaded"`
	Progress       float64 `json:"progress"`
}

// Pieces is a torrent's piece map.
type Pieces struct {
	NumPieces   int   `json:"num_pieces"`
	PieceLength int64 `json:"piece_length"`
	// Have is our bitfield, base64 of the BEP 3 wire form (high bit first).
	Have     string `json:"have"`
	HaveList []int  `json:"-"`
	// InFlight lists the pieces being downloaded.
	InFlight []int `json:"in_flight"`
	// Availability counts, per piece, the connected peers that have it.
	Availability []int `json:"availability"`
}

// pieceSource returns what answers a piece question: the running swarm, or the bitfield
// kept while stopped.
func (d *Daemon) pieceSource(infoHash string) (*torrent, *swarmRun, bitfield.Bitfield, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, err := d.lookup(infoHash)
	if err != nil {
		return nil, nil, bitfield.Bitfield{}, err
	}
	if t.mi == nil {
		return nil, nil, bitfield.Bitfield{}, fmt.Errorf("%w: metadata unavailable", ErrBadInput)
	}
	have := bitfield.New(t.numPieces())
	if t.haveOK && t.have.Len() == t.numPieces() {
		have = t.have.Clone()
	}
	return t, t.run, have, nil
}

// Pieces returns the torrent's piece map.
func (d *Daemon) Pieces(infoHash string) (Pieces, error) {
	t, run, have, err := d.pieceSource(infoHash)
	if err != nil {
		return Pieces{}, err
	}
	out := Pieces{NumPieces: t.numPieces(), PieceLength: t.mi.Info.PieceLength, InFlight: []int{}, Availability: make([]int, t.numPieces())}
	if run != nil {
		ps := run.sw.Pieces()
		have = ps.Have
		out.InFlight = append(out.InFlight, ps.InFlight...)
		out.Availability = ps.Availability
	}
	out.Have = base64.StdEncoding.EncodeToString(have.Bytes())
	return out, nil
}

// Peers returns the torrent's peer ledger; empty while it is not running.
func (d *Daemon) Peers(infoHash string) ([]Peer, error) {
	_, run, _, err := d.pieceSource(infoHash)
	if err != nil {
		return nil, err
	}
	out := []Peer{}
	if run == nil {
		return out, nil
	}
	for _, e := range run.sw.Ledger() {
		out = append(out, ledgerPeer(e))
	}
	return out, nil
}

func ledgerPeer(e peer.LedgerEntry) Peer {
	p := Peer{Addr: e.Addr.String(), Source: string(e.Source), State: e.State, Reason: e.Reason, Fails: e.Fails, NextDial: e.NextDial, Progress: e.Progress}
	if c := e.Connected; c != nil {
		p.Client, p.Outgoing, p.Snubbed = c.Client, c.Outgoing, c.Snubbed
		if c.Encryption != 0 {
			p.Encryption = c.Encryption.String()
		}
		p.AmChoking, p.AmInterested, p.PeerChoking, p.PeerInterested = c.Choked, c.Interested, c.PeerChoking, c.PeerInterested
		p.DownRate, p.UpRate, p.Downloaded, p.Uploaded = c.DownRate, c.UpRate, c.Downloaded, c.Uploaded
	}
	return p
}

// fileProgress is the verified fraction of the pieces that hold f.
func fileProgress(info *metainfo.Info, have bitfield.Bitfield, f metainfo.FileEntry) float64 {
	if f.Length == 0 {
		return 1
	}
	first := int(f.Offset / info.PieceLength)
	last := int((f.Offset + f.Length - 1) / info.PieceLength)
	n := 0
	for i := first; i <= last; i++ {
		if have.Has(i) {
			n++
		}
	}
	return float64(n) / float64(last-first+1)
}

// ChokeRound is one decision of a torrent's choker: who got an upload slot and why.
type ChokeRound struct {
	At      time.Time   `json:"at"`
	Full    bool        `json:"full"` // a regular 10 s round; otherwise free slots were filled
	Seeding bool        `json:"seeding"`
	Slots   []ChokeSlot `json:"slots"`
}

// ChokeSlot is one peer's place in a round.
type ChokeSlot struct {
	Addr     string  `json:"addr"`
	Kind     string  `json:"kind"` // regular, optimistic, snubbed, choked
	Reason   string  `json:"reason"`
	DownRate float64 `json:"down_rate"`
	UpRate   float64 `json:"up_rate"`
}

// ChokeLog returns the torrent's last choker decisions, oldest first; empty while stopped.
func (d *Daemon) ChokeLog(infoHash string) ([]ChokeRound, error) {
	_, run, _, err := d.pieceSource(infoHash)
	if err != nil {
		return nil, err
	}
	out := []ChokeRound{}
	if run == nil {
		return out, nil
	}
	for _, r := range run.sw.ChokeLog() {
		cr := ChokeRound{At: r.At, Full: r.Full, Seeding: r.Seeding, Slots: []ChokeSlot{}}
		for _, s := range r.Slots {
			cr.Slots = append(cr.Slots, ChokeSlot{Addr: s.Addr.String(), Kind: s.Kind, Reason: s.Reason, DownRate: s.DownRate, UpRate: s.UpRate})
		}
		out = append(out, cr)
	}
	return out, nil
}
