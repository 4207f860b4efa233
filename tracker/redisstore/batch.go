package redisstore

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Batching. With one command per round trip, each announce costs Redis a read and a write
// system call and the tracker a write, a read and a goroutine wake-up; under load that was
// more than the script itself. Announces of concurrent requests therefore go to Redis
// together: a worker that is free takes whatever is queued (up to maxBatch) and sends it as
// one pipeline. There is no waiting to fill a batch, so a lone announce goes out at once.
const (
	batchWorkers = 4
	maxBatch     = 64
)

var errClosed = errors.New("redisstore: store closed")

// evalCall is one queued script run; the worker closes done after setting reply and err.
type evalCall struct {
	ctx   context.Context // the caller's: a call it gave up on is never sent
	keys  []string
	args  []any
	reply []any
	err   error
	done  chan struct{}
}

type batcher struct {
	rdb     redis.UniversalClient
	timeout time.Duration
	calls   chan *evalCall
	quit    chan struct{}
	wg      sync.WaitGroup
}

func newBatcher(rdb redis.UniversalClient, timeout time.Duration) *batcher {
	b := &batcher{rdb: rdb, timeout: timeout, calls: make(chan *evalCall, 4*maxBatch), quit: make(chan struct{})}
	for range batchWorkers {
		b.wg.Go(b.work)
	}
	return b
}

// eval queues one run of the announce script and waits for its reply or ctx.
func (b *batcher) eval(ctx context.Context, keys []string, args ...any) ([]any, error) {
	c := &evalCall{ctx: ctx, keys: keys, args: args, done: make(chan struct{})}
	select {
	case b.calls <- c:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-b.quit:
		return nil, errClosed
	}
	select {
	case <-c.done:
		return c.reply, c.err
	case <-ctx.Done():
		return nil, ctx.Err() // the worker finishes c on its own; nobody reads it
	}
}

func (b *batcher) work() {
	batch := make([]*evalCall, 0, maxBatch)
	for {
		select {
		case c := <-b.calls:
			batch = b.add(batch[:0], c)
		case <-b.quit:
			return
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case c := <-b.calls:
				batch = b.add(batch, c)
			default:
				break fill
			}
		}
		if len(batch) > 0 {
			b.run(batch)
		}
	}
}

// add appends c unless its caller has given up (timed out while Redis was slow or down):
// running it late would store an announce whose client was told it failed.
func (b *batcher) add(batch []*evalCall, c *evalCall) []*evalCall {
	if err := c.ctx.Err(); err != nil {
		c.err = err
		close(c.done)
		return batch
	}
	return append(batch, c)
}

// run sends a batch as one pipeline of EVALSHA. Calls that meet a Redis without the script
// (after a restart, or on a new cluster node) go again with EVAL, which also loads it.
func (b *batcher) run(batch []*evalCall) {
	// The batch ends when its most hurried caller gives up: a pipeline that outlived its
	// callers could reach a Redis that came back and store announces reported as failed.
	deadline := time.Now().Add(b.timeout)
	for _, c := range batch {
		if d, ok := c.ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	cmds := b.pipeline(ctx, batch, false)
	var retry []*evalCall
	var retryIdx []int
	for i, cmd := range cmds {
		if err := cmd.Err(); err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
			retry, retryIdx = append(retry, batch[i]), append(retryIdx, i)
		}
	}
	if len(retry) > 0 {
		again := b.pipeline(ctx, retry, true)
		for j, i := range retryIdx {
			cmds[i] = again[j]
		}
	}
	for i, c := range batch {
		c.reply, c.err = cmds[i].Slice()
		close(c.done)
	}
}

func (b *batcher) pipeline(ctx context.Context, batch []*evalCall, full bool) []*redis.Cmd {
	cmds := make([]*redis.Cmd, len(batch))
	_, _ = b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range batch {
			if full {
				cmds[i] = announceScript.Eval(ctx, p, c.keys, c.args...)
			} else {
				cmds[i] = announceScript.EvalSha(ctx, p, c.keys, c.args...)
			}
		}
		return nil
	})
	return cmds
}

// close stops the workers; calls still queued fail with errClosed.
func (b *batcher) close() {
	close(b.quit)
	b.wg.Wait()
	for {
		select {
		case c := <-b.calls:
			c.err = errClosed
			close(c.done)
		default:
			return
		}
	}
}
