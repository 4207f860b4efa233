package peer

import (
	"fmt"

	"github.com/swarm-bt/swarm/peer/storage"
)

// maxPendingWrites bounds the block bytes received but not yet on disk; above it the loop
// stops requesting, so memory does not grow when the disk is slower than the network.
const maxPendingWrites = 16 << 20

// jobKind is the work a diskJob asks for.
type jobKind uint8

const (
	jobWrite  jobKind = iota // write data at piece, begin
	jobVerify                // hash piece
)

// diskJob is one unit of blocking storage work, done by the pool off the loop.
type diskJob struct {
	kind  jobKind
	piece int
	begin uint32
	data  []byte
	// For verify jobs: the piece failed before (block sums always wanted) or several peers
	// sent it (block sums wanted if it fails). See smartban.go.
	suspect, shared bool
	// For verify jobs: the piece's blocks in order when they were kept in memory (kept.go);
	// nil means read the piece back from storage.
	blocks [][]byte
}

// diskQueue is the loop's side of the pool: jobs not yet taken by a worker. The loop offers
// the head on jobs in its select, so it never blocks on a busy pool.
type diskQueue struct {
	queue   []diskJob // a window of arr (see pushWindow)
	arr     []diskJob
	pending int64     // bytes in queued or running write jobs
	blocks  blockPool // received block buffers, given back after their write
}

func (q *diskQueue) push(j diskJob) {
	if j.kind == jobWrite {
		q.pending += int64(len(j.data))
	}
	q.queue = pushWindow(&q.arr, q.queue, j)
}

// offer returns the session pool's channel and the head job for the loop's select; a nil
// channel when idle.
func (q *diskQueue) offer(s *Swarm) (chan<- diskTask, diskTask) {
	if len(q.queue) == 0 {
		return nil, diskTask{}
	}
	return s.sess.disk, diskTask{sw: s, job: q.queue[0]}
}

// taken drops the head after a worker took it.
func (q *diskQueue) taken() {
	q.queue[0] = diskJob{}
	q.queue = q.queue[1:]
	if len(q.queue) == 0 {
		q.queue = q.arr[:0]
	}
}

// startDisk readies the swarm's side of the session's disk pool.
func (s *Swarm) startDisk() {
	s.disk.blocks = newBlockPool(freeBlocks(s.cfg.HashMemory))
}

// diskDone reports a finished job to the loop (from a worker of the session's pool); the
// result is dropped when the loop has ended.
func (s *Swarm) diskDone(ev diskDoneEvent) {
	defer s.diskWG.Done()
	select {
	case s.events <- ev:
	case <-s.loopDone:
	}
}

func (s *Swarm) runJob(j diskJob, v *storage.Verifier) diskDoneEvent {
	switch j.kind {
	case jobWrite:
		off := int64(j.piece)*s.cfg.Info.PieceLength + int64(j.begin)
		if _, err := s.cfg.Storage.WriteAt(j.data, off); err != nil {
			return diskDoneEvent{job: j, err: fmt.Errorf("write block %d+%d of piece %d: %w", j.begin, len(j.data), j.piece, err)}
		}
		return diskDoneEvent{job: j}
	default:
		return s.verify(j, v)
	}
}

// pushWindow appends v to a FIFO kept as win, a window of the array *arr that popping from
// the front advances. When win reaches the array's end it moves back to the start if it
// fills at most half of the array, else to a new array twice as large: once the array fits
// the queue's usual depth, pushing allocates nothing (plain append on a window that never
// empties reallocates every few pushes).
func pushWindow[T any](arr *[]T, win []T, v T) []T {
	if len(win) == cap(win) {
		if cap(*arr) == 0 || len(win) > cap(*arr)/2 {
			*arr = make([]T, 0, max(2*cap(*arr), 64))
		}
		win = append((*arr)[:0], win...) // copy moves overlapping ranges safely
	}
	return append(win, v)
}
