package peer

import (
	"errors"
	"math/rand/v2"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/peer/bitfield"
	"github.com/swarm-bt/swarm/peer/picker"
	"github.com/swarm-bt/swarm/peer/wire"
)

// Request pipeline bounds per peer: enough blocks in flight to cover the round trip.
const (
	minPipeline = 16
	maxPipeline = 250
	// pipelineSeconds of the peer's rate are kept requested.
	pipelineSeconds = 2
)

// download is the loop's state of what we have and what is on its way.
type download struct {
	pk        *picker.Picker
	have      bitfield.Bitfield
	left      int64
	writing   map[int]int             // piece → block writes in flight
	complete  map[int]bool            // piece → every block received; verify once written
	senders   map[int][]sender        // piece → per block, the connection that sent it
	suspect   map[int]*suspectRecords // failed pieces that several peers sent (smartban.go)
	kept      map[int]*keptPiece      // piece → its blocks kept for hashing, nil: the disk way (kept.go)
	keptBytes int64
	refill    bool  // blocks went back to the picker: refill every peer
	wasted    int64 // piece payload received but not used
	verified  int   // pieces verified by this session
	failed    int   // pieces that failed their hash
	// lost are pieces a recheck found damaged after we had announced them: requests for
	// them are ignored, not violations (zero-length until a recheck loses one).
	lost bitfield.Bitfield
}

func newDownload(info *metainfo.Info, have bitfield.Bitfield, rng *rand.Rand) download {
	pk := picker.New(pickerConfig(info, rng), have.Clone())
	d := download{pk: pk, have: have, writing: map[int]int{}, complete: map[int]bool{}, senders: map[int][]sender{}, suspect: map[int]*suspectRecords{}, kept: map[int]*keptPiece{}}
	for i := range info.NumPieces() {
		if !have.Has(i) {
			d.left += info.PieceSize(i)
		}
	}
	return d
}

func pickerConfig(info *metainfo.Info, rng *rand.Rand) picker.Config {
	return picker.Config{
		NumPieces:   info.NumPieces(),
		PieceLength: info.PieceLength,
		TotalLength: info.TotalLength(),
		BlockSize:   wire.BlockSize,
		Rand:        rng,
	}
}

// onPiece takes a block from p: it must answer one of our requests (or a withdrawn one, which
// is tolerated and discarded). Accepted blocks go to the disk pool.
func (s *Swarm) onPiece(p *peer, m wire.Message) error {
	b := picker.Block{Piece: int(m.Index), Begin: m.Begin, Length: uint32(len(m.Block))}
	n := int64(len(m.Block))
	if _, ok := p.requests[b]; !ok {
		s.disk.blocks.put(m.Block)
		if _, ok := p.cancelled[b]; ok {
			delete(p.cancelled, b)
			s.dl.wasted += n
			if p.peerChoking {
				p.choked.late++
			}
			return nil
		}
		return violation("block %d+%d of piece %d was not requested", b.Begin, b.Length, b.Piece)
	}
	delete(p.requests, b)
	p.down.add(n)
	p.downloaded += n
	p.lastBlockAt, p.snubbed, p.timeouts = s.now, false, 0
	s.traffic.down.add(n)
	s.traffic.downloaded += n
	expected, done, cancels := s.dl.pk.Received(picker.PeerID(p.id), b)
	s.cancelDuplicates(b, cancels)
	if !expected {
		s.disk.blocks.put(m.Block)
		s.dl.wasted += n
		s.fill(p)
		return nil
	}
	s.addSender(b.Piece, b.Begin, p.sender())
	if done {
		s.dl.complete[b.Piece] = true
	}
	if !s.keep(b.Piece, b.Begin, m.Block) {
		s.dl.writing[b.Piece]++
		s.disk.push(diskJob{kind: jobWrite, piece: b.Piece, begin: b.Begin, data: m.Block})
	}
	s.verifyWhenWritten(b.Piece)
	s.fill(p)
	return nil
}

// verifyWhenWritten queues the hash job of a piece whose blocks have all arrived once its
// disk-way writes are done. A kept piece has none: its job hashes the blocks in memory and
// writes them only if they match, one job per piece instead of one per block, and a corrupt
// piece never reaches the disk.
func (s *Swarm) verifyWhenWritten(i int) {
	if s.dl.writing[i] == 0 && s.dl.complete[i] {
		delete(s.dl.writing, i)
		delete(s.dl.complete, i)
		s.disk.push(s.verifyJob(i))
	}
}

// cancelDuplicates withdraws, in endgame, the same block from the other peers.
func (s *Swarm) cancelDuplicates(b picker.Block, ids []picker.PeerID) {
	for _, id := range ids {
		q := s.peers.byID[int(id)]
		if q == nil {
			continue
		}
		if _, ok := q.requests[b]; !ok {
			continue
		}
		s.markCancelled(q, b)
		s.sendTo(q, outMsg{kind: outControl, id: wire.Cancel, index: uint32(b.Piece), begin: b.Begin, length: b.Length})
		s.fill(q)
	}
}

func (s *Swarm) onDiskDone(e diskDoneEvent) {
	if e.err != nil {
		s.fatal = e.err
		return
	}
	if e.job.kind == jobVerify {
		s.release(e.job.piece)
		s.onVerified(e.job.piece, e.ok, e.sums)
		return
	}
	throttled := s.disk.pending > maxPendingWrites
	s.disk.pending -= int64(len(e.job.data))
	s.disk.blocks.put(e.job.data) // written (only disk-way blocks have write jobs): free
	if throttled && s.disk.pending <= maxPendingWrites {
		s.dl.refill = true
	}
	i := e.job.piece
	s.dl.writing[i]--
	if s.dl.writing[i] == 0 {
		delete(s.dl.writing, i)
	}
	s.verifyWhenWritten(i)
}

func (s *Swarm) onVerified(i int, ok bool, sums [][20]byte) {
	senders := s.dl.senders[i]
	delete(s.dl.senders, i)
	if s.dl.have.Has(i) {
		return // a recheck found it whole meanwhile
	}
	if !ok {
		s.pieceFailed(i, senders, sums)
		return
	}
	if s.dl.lost.Len() > 0 {
		s.dl.lost.Clear(i)
	}
	s.suspectVerified(i, sums)
	s.dl.have.Set(i)
	s.dl.pk.PieceVerified(i)
	s.dl.left -= s.cfg.Info.PieceSize(i)
	s.dl.verified++
	for _, p := range s.peers.byID {
		if !p.has.Has(i) {
			s.sendTo(p, outMsg{kind: outControl, id: wire.Have, index: uint32(i)})
		} else if p.amInterested {
			s.updateInterest(p)
		}
	}
	if s.dl.pk.Done() {
		s.becomeSeed()
	}
}

// errCorrupt is the ban reason of the peers that sent a piece that failed its hash.
var errCorrupt = errors.New("sent corrupt data")

// pieceFailed puts the piece back. A peer that sent the whole piece alone is banned at once;
// when several sent it, their blocks are remembered for the smart ban (smartban.go).
func (s *Swarm) pieceFailed(i int, senders []sender, sums [][20]byte) {
	s.dl.failed++
	s.dl.wasted += s.cfg.Info.PieceSize(i)
	s.dl.pk.PieceFailed(i)
	s.dl.refill = true
	contrib := distinctSenders(senders)
	s.log.Warn("piece failed its hash check", "piece", i, "peers", len(contrib))
	switch len(contrib) {
	case 0:
	case 1:
		s.ban(contrib[0].key, errCorrupt)
	default:
		s.suspectFailed(i, senders, sums)
	}
}

// becomeSeed switches to seeding once every piece is verified.
func (s *Swarm) becomeSeed() {
	s.seeding = true
	s.chk.dirty = true
	s.disk.blocks.drain() // a seed receives no blocks
	close(*s.completed.Load())
	s.log.Info("download complete", "pieces", s.dl.have.Len())
	if !s.ann.completedQueued { // once: completing again after a recheck is no new download
		s.ann.completedQueued = true
		s.ann.queue = append(s.ann.queue, EventCompleted)
	}
	for _, p := range s.peers.byID {
		s.updateInterest(p)
		if p.has.Full() {
			s.dropPeer(p, errBothSeeds)
		}
	}
}

// fill tops up p's request pipeline from the picker.
func (s *Swarm) fill(p *peer) {
	if p.closed || !p.amInterested || s.seeding || s.disk.pending > maxPendingWrites {
		return
	}
	if p.peerChoking {
		s.fillAllowed(p)
		return
	}
	want := p.pipeline()
	n := want - len(p.requests)
	if n < max(1, want/8) {
		return
	}
	id := picker.PeerID(p.id)
	if s.dl.pk.IsSeed(id) {
		s.dl.pk.SpareSeeds(s.tradingPeer(p))
	}
	p.picked = s.dl.pk.PickAppend(p.picked, id, n)
	for _, b := range p.picked {
		if !s.mayRequest(p, b) {
			s.dl.pk.Release(picker.PeerID(p.id), b)
			continue
		}
		p.requests[b] = s.now
		s.sendTo(p, outMsg{kind: outControl, id: wire.Request, index: uint32(b.Piece), begin: b.Begin, length: b.Length})
	}
}

// tradingPeer reports whether some peer other than seed, itself not a seed, unchokes us and
// has pieces we want: then new pieces that such peers have are not asked of the seed
// (Picker.SpareSeeds), so the seed's upload goes where only it can help.
func (s *Swarm) tradingPeer(seed *peer) bool {
	for _, q := range s.peers.byID {
		if q != seed && !q.closed && !q.peerChoking && q.amInterested && !s.dl.pk.IsSeed(picker.PeerID(q.id)) {
			return true
		}
	}
	return false
}

// pipeline is how many requests to keep in flight to p: pipelineSeconds of its recent rate.
func (p *peer) pipeline() int {
	n := int(p.down.rate(5) * pipelineSeconds / wire.BlockSize)
	return min(max(n, minPipeline), maxPipeline)
}

// refillAll tops up every peer after blocks went back to the picker.
func (s *Swarm) refillAll() {
	s.dl.refill = false
	for _, p := range s.peers.byID {
		s.fill(p)
	}
}

// maxRequestTimeouts is how many times in a row a peer's requests may time out, with no block
// received in between (and at least two request timeouts of silence), before it is dropped:
// a peer that claims pieces, unchokes and never serves must not hold a slot for ever.
const maxRequestTimeouts = 3

// errUnresponsive is the drop reason of such a peer.
var errUnresponsive = errors.New("requests timed out repeatedly with no block received")

// expireRequests withdraws requests unanswered for the request timeout; the peer is snubbed,
// and dropped after maxRequestTimeouts such expiries without a block.
func (s *Swarm) expireRequests(p *peer) {
	expired := false
	for b, at := range p.requests {
		if s.now.Sub(at) < s.cfg.Timeouts.Request {
			continue
		}
		s.dl.pk.Release(picker.PeerID(p.id), b)
		s.markCancelled(p, b)
		s.sendTo(p, outMsg{kind: outControl, id: wire.Cancel, index: uint32(b.Piece), begin: b.Begin, length: b.Length})
		p.snubbed, expired = true, true
		s.suspectTimedOut(p, b.Piece)
		s.dl.refill = true
	}
	if !expired {
		return
	}
	p.timeouts++
	silent := s.now.Sub(p.connectedAt)
	if !p.lastBlockAt.IsZero() {
		silent = s.now.Sub(p.lastBlockAt)
	}
	if p.timeouts >= maxRequestTimeouts && silent >= 2*s.cfg.Timeouts.Request {
		s.dropPeer(p, errUnresponsive)
	}
}
