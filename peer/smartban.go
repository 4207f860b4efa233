package peer

import (
	"bytes"
	"crypto/sha1"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/swarm-bt/swarm/peer/picker"
	"github.com/swarm-bt/swarm/peer/storage"
	"github.com/swarm-bt/swarm/peer/wire"
)

// Smart ban (libtorrent's idea). When a piece that several peers sent fails its hash, nobody
// is struck yet: the SHA-1 of each block and who sent it are remembered, the piece is fetched
// again, and once it verifies exactly the peers whose blocks differ from the good data are
// banned. A piece sent wholly by one peer bans that peer at once. Memory is bounded: records
// exist only for failed pieces, at most maxSuspectPieces of them and maxSuspectRounds
// failures each (a block's sender and sum are kept once). Shared senders of a failed piece are
// never struck on suspicion alone: that is how a corrupter framed an honest seeder.
const (
	maxSuspectPieces = 64
	maxSuspectRounds = 4
)

// blockRecord is one block of a failed piece: who sent it and the SHA-1 of what was written.
type blockRecord struct {
	sender sender
	block  int
	sum    [20]byte
}

// addSender records that connection id sent the block at begin of piece.
func (s *Swarm) addSender(piece int, begin uint32, id sender) {
	b := s.dl.senders[piece]
	if b == nil {
		n := (s.cfg.Info.PieceSize(piece) + wire.BlockSize - 1) / wire.BlockSize
		b = make([]sender, n)
		s.dl.senders[piece] = b
	}
	if j := int(begin / wire.BlockSize); j < len(b) {
		b[j] = id
	}
}

// distinctSenders lists the connections that sent blocks of a piece, once each.
func distinctSenders(blocks []sender) []sender {
	var ids []sender
	for _, id := range blocks {
		if id != (sender{}) && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// severalSenders reports whether more than one connection sent blocks of a piece (as
// len(distinctSenders(blocks)) > 1, without allocating: it runs for every piece).
func severalSenders(blocks []sender) bool {
	var first sender
	for _, id := range blocks {
		switch {
		case id == (sender{}):
		case first == (sender{}):
			first = id
		case id != first:
			return true
		}
	}
	return false
}

// verifyJob is the hash job of piece i: block sums are wanted if the piece failed before
// (always) or if several peers sent it (only should it fail).
func (s *Swarm) verifyJob(i int) diskJob {
	_, suspect := s.dl.suspect[i]
	shared := severalSenders(s.dl.senders[i])
	return diskJob{kind: jobVerify, piece: i, suspect: suspect, shared: shared, blocks: s.keptBlocks(i)}
}

// verify runs a hash job on a disk worker.
func (s *Swarm) verify(j diskJob, v *storage.Verifier) diskDoneEvent {
	e := s.hash(j, v)
	if e.ok && e.err == nil && j.blocks != nil {
		e.err = s.writeKept(j.piece, j.blocks)
	}
	return e
}

// hash checks piece j.piece, from its kept blocks or else from storage, with the block sums
// the smart ban needs.
func (s *Swarm) hash(j diskJob, v *storage.Verifier) diskDoneEvent {
	e := diskDoneEvent{job: j}
	if !j.suspect {
		if j.blocks != nil {
			e.ok = v.VerifyData(j.piece, j.blocks)
		} else {
			e.ok, e.err = v.Verify(s.cfg.Storage, j.piece)
		}
		if e.err != nil || e.ok || !j.shared {
			return e
		}
	}
	ok, sums, err := s.blockSums(j.piece, j.blocks)
	if err != nil {
		e.err = fmt.Errorf("verify piece %d: %w", j.piece, err)
	} else if j.suspect {
		e.ok = ok
	}
	e.sums = sums
	return e
}

// writeKept writes the blocks of a kept piece that matched its hash, with one vectored write
// (one pwritev per file: half the kernel's cost of a write per block).
func (s *Swarm) writeKept(i int, blocks [][]byte) error {
	if _, err := storage.WriteVec(s.cfg.Storage, blocks, int64(i)*s.cfg.Info.PieceLength); err != nil {
		return fmt.Errorf("write piece %d: %w", i, err)
	}
	return nil
}

// blockSums returns the SHA-1 of each block of piece i and whether the whole piece matches
// its hash, from the kept blocks or else read from storage block by block. A storage shorter
// than the piece gives false, not an error.
func (s *Swarm) blockSums(i int, kept [][]byte) (bool, [][20]byte, error) {
	off, size := int64(i)*s.cfg.Info.PieceLength, s.cfg.Info.PieceSize(i)
	whole := sha1.New()
	if kept != nil {
		sums := make([][20]byte, len(kept))
		for k, b := range kept {
			whole.Write(b)
			sums[k] = sha1.Sum(b)
		}
		return bytes.Equal(whole.Sum(nil), s.cfg.Info.PieceHash(i)), sums, nil
	}
	buf := make([]byte, wire.BlockSize)
	var sums [][20]byte
	for done := int64(0); done < size; done += int64(len(buf)) {
		buf = buf[:min(int64(wire.BlockSize), size-done)]
		n, err := s.cfg.Storage.ReadAt(buf, off+done)
		if n < len(buf) && err == io.EOF {
			return false, nil, nil
		}
		if err != nil && err != io.EOF {
			return false, nil, err
		}
		whole.Write(buf)
		sums = append(sums, sha1.Sum(buf))
	}
	return bytes.Equal(whole.Sum(nil), s.cfg.Info.PieceHash(i)), sums, nil
}

// suspectFailed remembers the blocks of a failed piece that several peers sent. Past the
// bounds, nothing more is remembered (and nobody is struck): the records already kept still
// catch a corrupter once the piece verifies.
func (s *Swarm) suspectFailed(i int, senders []sender, sums [][20]byte) {
	recs := s.dl.suspect[i]
	if recs != nil {
		recs.hasOwner = false // a new round: the next peer to pick it takes it whole
	}
	full := recs == nil && len(s.dl.suspect) >= maxSuspectPieces || recs != nil && recs.rounds >= maxSuspectRounds
	if full || len(sums) != len(senders) {
		s.log.Debug("smart ban: failed piece not recorded", "piece", i, "full", full)
		return
	}
	if recs == nil {
		recs = &suspectRecords{excluded: map[int]time.Time{}}
		s.dl.suspect[i] = recs
	}
	recs.rounds++
	for j, id := range senders {
		r := blockRecord{sender: id, block: j, sum: sums[j]}
		if id != (sender{}) && !slices.Contains(recs.blocks, r) {
			recs.blocks = append(recs.blocks, r)
		}
	}
}

// suspectVerified bans the peers whose remembered blocks of piece i differ from the good data.
func (s *Swarm) suspectVerified(i int, good [][20]byte) {
	recs := s.dl.suspect[i]
	if recs == nil {
		return
	}
	delete(s.dl.suspect, i)
	var bad []peerKey
	for _, r := range recs.blocks {
		if r.block < len(good) && r.sum != good[r.block] && !slices.Contains(bad, r.sender.key) {
			bad = append(bad, r.sender.key)
		}
	}
	for _, k := range bad {
		s.log.Warn("smart ban: peer sent a block that differs from the verified piece", "piece", i, "peer", k.ip)
		s.ban(k, errCorrupt)
	}
}

// suspectRecords are the remembered blocks of one failed piece, and who fetches it again.
type suspectRecords struct {
	rounds int // failures recorded
	blocks []blockRecord
	// The piece is fetched again from a single peer, its owner: the first to pick a block of
	// it. A peer whose request for it times out loses it and may not take it again for a
	// while (excluded: peer ID → until), so a peer that withholds a block cannot keep
	// sharing the piece with an honest one.
	owner    int
	hasOwner bool
	excluded map[int]time.Time
}

// mayRequest reports whether p may request b: blocks of a suspect piece go to its owner only.
// A peer that may takes the piece if nobody (still connected and unchoking us) holds it.
func (s *Swarm) mayRequest(p *peer, b picker.Block) bool {
	r := s.dl.suspect[b.Piece]
	if r == nil {
		return true
	}
	if until, ok := r.excluded[p.id]; ok && s.now.Before(until) {
		return false
	}
	if o := s.peers.byID[r.owner]; r.hasOwner && r.owner != p.id && o != nil && !o.closed && !o.peerChoking {
		return false
	}
	r.owner, r.hasOwner = p.id, true
	return true
}

// suspectTimedOut: p's request for a block of piece i timed out; if i is suspect, p loses it
// and is excluded from it for a few request timeouts.
func (s *Swarm) suspectTimedOut(p *peer, i int) {
	r := s.dl.suspect[i]
	if r == nil {
		return
	}
	if r.hasOwner && r.owner == p.id {
		r.hasOwner = false
	}
	for id, until := range r.excluded {
		if !s.now.Before(until) {
			delete(r.excluded, id)
		}
	}
	r.excluded[p.id] = s.now.Add(suspectExclusion * s.cfg.Timeouts.Request)
}

// suspectExclusion is how many request timeouts a peer that withheld a block of a suspect
// piece is kept from fetching it again.
const suspectExclusion = 4
