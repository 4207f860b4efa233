package redisstore

import (
	"context"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swarm-bt/swarm/metainfo"
	"github.com/swarm-bt/swarm/tracker"
)

// scanCount is the COUNT hint of each SCAN step: a step and its pipeline touch about this
// many keys, so no sweep holds Redis for long.
const scanCount = 512

// peerKeys matches the seeder and leecher sets of every swarm.
const peerKeys = "t:{*}:[sl]"

// nodes returns the clients to scan: the server, or every master of a cluster.
func (s *Store) nodes(ctx context.Context) ([]redis.Cmdable, error) {
	if s.cluster == nil {
		return []redis.Cmdable{s.rdb}, nil
	}
	var mu sync.Mutex
	var out []redis.Cmdable
	err := s.op(ctx, func(ctx context.Context) error {
		return s.cluster.ForEachMaster(ctx, func(_ context.Context, c *redis.Client) error {
			mu.Lock()
			defer mu.Unlock()
			out = append(out, c)
			return nil
		})
	})
	return out, err
}

// scan calls step with each batch of seeder and leecher keys, one SCAN step at a time on
// each node, every step under its own timeout.
func (s *Store) scan(ctx context.Context, step func(ctx context.Context, c redis.Cmdable, keys []string) (bool, error)) error {
	nodes, err := s.nodes(ctx)
	if err != nil {
		return err
	}
	for _, c := range nodes {
		var cursor uint64
		for {
			var keys []string
			more := true
			err := s.op(ctx, func(ctx context.Context) error {
				var err error
				keys, cursor, err = c.Scan(ctx, cursor, peerKeys, scanCount).Result()
				if err != nil || len(keys) == 0 {
					return err
				}
				more, err = step(ctx, c, keys)
				return err
			})
			if err != nil {
				return err
			}
			if !more {
				return nil
			}
			if cursor == 0 {
				break
			}
		}
	}
	return nil
}

// sibling returns the other peer set of a swarm key, and whether key is a seeder set.
func sibling(key string) (string, bool) {
	base, kind := key[:len(key)-1], key[len(key)-1]
	if kind == 's' {
		return base + "l", true
	}
	return base + "s", false
}

// Expire drops members last seen before cutoff from every swarm, in SCAN steps of about
// 512 keys (one pipeline each), and refreshes the totals. Emptied swarms vanish: Redis
// deletes an empty sorted set.
func (s *Store) Expire(ctx context.Context, cutoff time.Time) (int, error) {
	upto := "(" + strconv.FormatInt(cutoff.UnixMilli(), 10)
	var removed, swarms, peers int64
	err := s.scan(ctx, func(ctx context.Context, c redis.Cmdable, keys []string) (bool, error) {
		rem := make([]*redis.IntCmd, len(keys))
		card := make([]*redis.IntCmd, len(keys))
		other := make([]*redis.IntCmd, len(keys))
		_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				rem[i] = p.ZRemRangeByScore(ctx, k, "-inf", upto)
				card[i] = p.ZCard(ctx, k)
				if sib, seeders := sibling(k); !seeders {
					other[i] = p.Exists(ctx, sib)
				}
			}
			return nil
		})
		for i := range keys {
			removed += rem[i].Val()
			peers += card[i].Val()
			// A swarm is counted by its seeder set, or by its leecher set when it has no
			// seeders.
			if card[i].Val() > 0 && (other[i] == nil || other[i].Val() == 0) {
				swarms++
			}
		}
		return true, err
	})
	if err != nil {
		return int(removed), err
	}
	s.swarms.Store(swarms)
	s.peers.Store(peers)
	return int(removed), nil
}

// Swarms walks every swarm with SCAN; see tracker.Store. It is as costly as the store is
// large: the tracker calls it for full scrapes only.
func (s *Store) Swarms(ctx context.Context, yield func(metainfo.Hash, tracker.Counts) bool) error {
	return s.scan(ctx, func(ctx context.Context, c redis.Cmdable, keys []string) (bool, error) {
		type row struct {
			h    metainfo.Hash
			cmds [3]redis.Cmder
			skip *redis.IntCmd // for a leecher set: does the seeder set exist (then it yields)
		}
		rows := make([]row, 0, len(keys))
		_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys {
				h, ok := hashOf(k)
				if !ok {
					continue
				}
				ks := hashKeys(h)
				r := row{h: h, cmds: [3]redis.Cmder{p.ZCard(ctx, ks[0]), p.ZCard(ctx, ks[1]), p.Get(ctx, ks[2])}}
				if _, seeders := sibling(k); !seeders {
					r.skip = p.Exists(ctx, ks[0])
				}
				rows = append(rows, r)
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return false, err
		}
		for _, r := range rows {
			if r.skip != nil && r.skip.Val() > 0 {
				continue
			}
			if !yield(r.h, countsOf(r.cmds)) {
				return false, nil
			}
		}
		return true, nil
	})
}

// hashOf extracts the info-hash from a key "t:{hex}:x".
func hashOf(key string) (metainfo.Hash, bool) {
	var h metainfo.Hash
	i, j := strings.IndexByte(key, '{'), strings.IndexByte(key, '}')
	if i < 0 || j != i+41 {
		return h, false
	}
	_, err := hex.Decode(h[:], []byte(key[i+1:j]))
	return h, err == nil
}
