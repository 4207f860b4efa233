// Package metadata assembles a torrent's info dictionary from ut_metadata pieces (BEP 9)
// fetched from several peers. It is pure: the engine feeds it peers, messages and the time,
// and sends the requests it returns.
//
// Rules (BEP 9 and what libtorrent and aria2 expect):
//   - the info dictionary is fetched in 16 KiB pieces, from every peer that offers it, with at
//     most MaxInFlight requests outstanding per peer (libtorrent answers 2 at a time);
//   - a request unanswered after Timeout goes to another peer, and the silent peer rests for
//     Backoff; a reject makes the peer rest too;
//   - the size comes from the peers' metadata_size, capped at wire.MaxMetadataSize; peers that
//     announce another size than the one being fetched are not asked;
//   - the assembled bytes must hash to the info-hash. On a mismatch every peer that sent a
//     piece is suspect: the next round fetches everything from one peer only, so that a
//     second mismatch names the bad peer exactly.
package metadata

import (
	"bytes"
	"crypto/sha1"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/swarm-bt/swarm/peer/wire"
)

// Errors the engine branches on.
var (
	// ErrTooLarge: a peer announced a metadata_size over wire.MaxMetadataSize.
	ErrTooLarge = errors.New("metadata: metadata_size over the cap")
	// ErrBadPiece: a peer sent a piece we did not ask it for, of the wrong size, or for
	// another total size.
	ErrBadPiece = errors.New("metadata: bad piece")
	// ErrHashMismatch: the peer sent metadata that does not hash to the info-hash.
	ErrHashMismatch = errors.New("metadata: info dictionary does not match the info-hash")
)

// Config tunes an Assembler. Zero fields take the defaults in the comments.
type Config struct {
	MaxInFlight int           // requests outstanding per peer; default 2
	Timeout     time.Duration // a request unanswered this long is asked elsewhere; default 10 s
	Backoff     time.Duration // a peer that rejected or timed out rests this long; default 20 s
}

// Request is a piece to ask of a peer.
type Request struct {
	Peer, Piece int
}

type peerState struct {
	size     int64
	inFlight map[int]time.Time // piece -> when asked
	restTill time.Time
	suspect  bool
}

// Assembler collects the pieces of one info dictionary. It is not safe for concurrent use.
type Assembler struct {
	cfg      Config
	infoHash [20]byte
	size     int64
	pieces   [][]byte
	from     []int // who sent each piece
	asked    []int // how many peers a piece is asked of now
	peers    map[int]*peerState
	single   int // after a mismatch: the only peer asked, or -1 for none chosen yet
	verify   bool
	done     []byte
}

// New returns an Assembler for the info dictionary of infoHash.
func New(infoHash [20]byte, cfg Config) *Assembler {
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 2
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 20 * time.Second
	}
	return &Assembler{cfg: cfg, infoHash: infoHash, peers: map[int]*peerState{}, single: -1}
}

// AddPeer records a peer that offers metadata of size bytes (its metadata_size). It returns
// ErrTooLarge (wrapped, naming the size) for a size over the cap; the peer is not used then.
func (a *Assembler) AddPeer(id int, size int64) error {
	if size <= 0 {
		return nil
	}
	if size > wire.MaxMetadataSize {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, size, wire.MaxMetadataSize)
	}
	if p := a.peers[id]; p != nil {
		p.size = size // a second extension handshake
		return nil
	}
	a.peers[id] = &peerState{size: size, inFlight: map[int]time.Time{}}
	return nil
}

// RemovePeer forgets a peer; its requests go to others.
func (a *Assembler) RemovePeer(id int) {
	p := a.peers[id]
	if p == nil {
		return
	}
	a.release(p)
	delete(a.peers, id)
	if a.single == id {
		a.single = -1
	}
}

func (a *Assembler) release(p *peerState) {
	for piece := range p.inFlight {
		a.asked[piece]--
	}
	clear(p.inFlight)
}

// Peers is the number of peers offering metadata.
func (a *Assembler) Peers() int { return len(a.peers) }

// Size is the size being fetched; 0 before any peer offers one.
func (a *Assembler) Size() int64 { return a.size }

// Progress is the number of pieces received and their total.
func (a *Assembler) Progress() (have, total int) {
	for _, p := range a.pieces {
		if p != nil {
			have++
		}
	}
	return have, len(a.pieces)
}

// Done returns the verified info dictionary, or nil.
func (a *Assembler) Done() []byte { return a.done }

// start sizes the piece table from the first peer's size, in peer ID order.
func (a *Assembler) start() {
	if a.size != 0 || len(a.peers) == 0 {
		return
	}
	ids := a.peerIDs()
	a.size = a.peers[ids[0]].size
	n := wire.MetadataPieces(a.size)
	a.pieces, a.from, a.asked = make([][]byte, n), make([]int, n), make([]int, n)
}

func (a *Assembler) peerIDs() []int {
	ids := make([]int, 0, len(a.peers))
	for id := range a.peers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Requests returns the requests to send now, and records them as sent at now. Each missing
// piece is asked of one peer at a time; pieces go to the peers with room, in turn.
func (a *Assembler) Requests(now time.Time) []Request {
	if a.done != nil {
		return nil
	}
	a.start()
	var out []Request
	ids := a.usable(now)
	if len(ids) == 0 {
		return nil
	}
	next := 0
	for piece := range a.pieces {
		if a.pieces[piece] != nil || a.asked[piece] > 0 {
			continue
		}
		for tries := 0; tries < len(ids); tries++ {
			id := ids[next%len(ids)]
			next++
			if p := a.peers[id]; len(p.inFlight) < a.cfg.MaxInFlight {
				p.inFlight[piece] = now
				a.asked[piece]++
				out = append(out, Request{Peer: id, Piece: piece})
				break
			}
		}
	}
	return out
}

// usable lists the peers that may be asked now: same size, not resting, and after a
// mismatch only the one chosen peer (preferring one that is not suspect).
func (a *Assembler) usable(now time.Time) []int {
	var ids []int
	for _, id := range a.peerIDs() {
		p := a.peers[id]
		if p.size == a.size && !now.Before(p.restTill) {
			ids = append(ids, id)
		}
	}
	if !a.verify || len(ids) == 0 {
		return ids
	}
	if a.single < 0 || !slices.Contains(ids, a.single) {
		if a.single >= 0 && len(a.peers[a.single].inFlight) > 0 {
			return nil // the chosen peer rests; wait rather than mix sources
		}
		a.single = ids[0]
		for _, id := range ids {
			if !a.peers[id].suspect {
				a.single = id
				break
			}
		}
		clear(a.pieces) // a new source starts over: one source per round names a liar
		for _, p := range a.peers {
			a.release(p)
		}
	}
	return []int{a.single}
}

// Reject handles a peer's reject of a piece: it is asked elsewhere and the peer rests.
func (a *Assembler) Reject(id, piece int, now time.Time) {
	p := a.peers[id]
	if p == nil {
		return
	}
	if _, ok := p.inFlight[piece]; ok {
		delete(p.inFlight, piece)
		a.asked[piece]--
	}
	p.restTill = now.Add(a.cfg.Backoff)
}

// Expire frees the requests older than the timeout; their peers rest. It returns the peers
// that timed out.
func (a *Assembler) Expire(now time.Time) []int {
	var slow []int
	for _, id := range a.peerIDs() {
		p := a.peers[id]
		expired := false
		for piece, at := range p.inFlight {
			if now.Sub(at) >= a.cfg.Timeout {
				delete(p.inFlight, piece)
				a.asked[piece]--
				expired = true
			}
		}
		if expired {
			p.restTill = now.Add(a.cfg.Backoff)
			slow = append(slow, id)
		}
	}
	return slow
}

// Data takes a piece from a peer. It returns an error wrapping ErrBadPiece for a piece not
// asked of that peer or of the wrong size, and one wrapping ErrHashMismatch, with the peers
// to drop, when the assembled dictionary fails the hash; the engine drops those peers (the
// assembler has already forgotten them). After a success, Done returns the dictionary.
func (a *Assembler) Data(id int, m wire.MetadataMsg) (bad []int, err error) {
	p := a.peers[id]
	if p == nil || a.done != nil {
		return nil, nil // a late answer
	}
	if _, ok := p.inFlight[m.Piece]; !ok {
		return []int{id}, fmt.Errorf("%w: piece %d not asked of this peer", ErrBadPiece, m.Piece)
	}
	delete(p.inFlight, m.Piece)
	a.asked[m.Piece]--
	if want := a.pieceSize(m.Piece); m.TotalSize != a.size || int64(len(m.Data)) != want {
		a.RemovePeer(id)
		return []int{id}, fmt.Errorf("%w: piece %d of %d bytes (total %d), want %d (total %d)",
			ErrBadPiece, m.Piece, len(m.Data), m.TotalSize, want, a.size)
	}
	a.pieces[m.Piece] = bytes.Clone(m.Data)
	a.from[m.Piece] = id
	for _, piece := range a.pieces {
		if piece == nil {
			return nil, nil
		}
	}
	return a.finish()
}

func (a *Assembler) pieceSize(piece int) int64 {
	if piece == len(a.pieces)-1 {
		return a.size - int64(piece)*wire.MetadataPieceSize
	}
	return wire.MetadataPieceSize
}

// finish hashes the assembled dictionary.
func (a *Assembler) finish() ([]int, error) {
	all := bytes.Join(a.pieces, nil)
	if sha1.Sum(all) == a.infoHash {
		a.done = all
		return nil, nil
	}
	var senders []int
	for _, id := range a.from {
		if !slices.Contains(senders, id) {
			senders = append(senders, id)
		}
	}
	slices.Sort(senders)
	clear(a.pieces)
	var bad []int
	if len(senders) == 1 {
		bad = senders // one source: it is the liar
		a.RemovePeer(senders[0])
	} else {
		for _, id := range senders {
			if p := a.peers[id]; p != nil {
				p.suspect = true
			}
		}
	}
	a.verify, a.single = true, -1
	a.resize()
	return bad, fmt.Errorf("%w: from peers %v", ErrHashMismatch, senders)
}

// resize starts over with the size most peers announce, after a mismatch.
func (a *Assembler) resize() {
	for _, p := range a.peers {
		a.release(p)
	}
	a.size = 0
	a.pieces = nil
	counts := map[int64]int{}
	best := int64(0)
	for _, id := range a.peerIDs() {
		sz := a.peers[id].size
		counts[sz]++
		if best == 0 || counts[sz] > counts[best] {
			best = sz
		}
	}
	if best == 0 {
		return
	}
	a.size = best
	n := wire.MetadataPieces(a.size)
	a.pieces, a.from, a.asked = make([][]byte, n), make([]int, n), make([]int, n)
}
