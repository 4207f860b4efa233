-- One announce in one round trip (swarm tracker, tracker/redisstore).
-- KEYS: seeders zset, leechers zset, downloaded counter; all share the {infohash} hash tag.
-- ARGV: member (compact address), now ms, cutoff ms, key TTL ms, flags ("SCDN": seeder,
-- completed, stopped, no-create as 0/1), numwant, max peers (0 = none), a random integer.
-- Returns {complete, incomplete, downloaded, status} and, when peers are wanted, {leechers
-- sample, seeders sample, leechers wanted, seeders wanted}; status: 0 ok, 1 created, 2 swarm
-- full (not stored), -1 not created (no-create).
local s, l, d = KEYS[1], KEYS[2], KEYS[3]
local member, now, cutoff, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local flags = ARGV[5]
local seeder = string.sub(flags, 1, 1) == '1'
local completed = string.sub(flags, 2, 2) == '1'
local stopped = string.sub(flags, 3, 3) == '1'
local nocreate = string.sub(flags, 4, 4) == '1'
local numwant, maxpeers, rnd = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])

-- Members older than two intervals go first, so counts and samples see live peers only.
redis.call('ZREMRANGEBYSCORE', s, '-inf', '(' .. cutoff)
redis.call('ZREMRANGEBYSCORE', l, '-inf', '(' .. cutoff)
local inS = redis.call('ZSCORE', s, member) ~= false
local inL = (not inS) and redis.call('ZSCORE', l, member) ~= false
local status = 0
if not inS and not inL and redis.call('EXISTS', s, l) == 0 then
  if stopped then
    return {0, 0, tonumber(redis.call('GET', d) or '0'), 0}
  end
  if nocreate then
    return {0, 0, 0, -1}
  end
  status = 1
end

-- A download counts once per peer: on completed, or when a known leecher reports left=0.
local downloaded
if seeder and not inS and (completed or inL) then
  downloaded = redis.call('INCR', d)
else
  downloaded = tonumber(redis.call('GET', d) or '0')
end
-- Where the requester is after this announce, to keep it out of its own sample.
local selfS, selfL = false, false
if stopped then
  if inS then redis.call('ZREM', s, member) end
  if inL then redis.call('ZREM', l, member) end
elseif not inS and not inL and maxpeers > 0 and redis.call('ZCARD', s) + redis.call('ZCARD', l) >= maxpeers then
  status = 2
elseif seeder then
  if inL then redis.call('ZREM', l, member) end
  redis.call('ZADD', s, now, member)
  selfS = true
else
  if inS then redis.call('ZREM', s, member) end
  redis.call('ZADD', l, now, member)
  selfL = true
end
-- Swarms nobody announces to vanish by themselves: a set lives two intervals after its last
-- write, when every member in it is stale anyway; the counter as long as the swarm.
if selfS then redis.call('PEXPIRE', s, ttl) end
if selfL then redis.call('PEXPIRE', l, ttl) end
if downloaded > 0 then redis.call('PEXPIRE', d, ttl) end

local ns, nl = redis.call('ZCARD', s), redis.call('ZCARD', l)
local out = {ns, nl, downloaded, status}
if stopped or numwant <= 0 then
  return out
end
-- Candidates: leechers, plus seeders for a leecher; never the requester itself.
local cl = nl - (selfL and 1 or 0)
local cs = 0
if not seeder then cs = ns - (selfS and 1 or 0) end
local n = cl + cs
if n <= 0 then
  return out
end
local want = math.min(numwant, n)
-- Seeders in proportion, rounded at random so that the expected share is exact. Each sample
-- asks for one more member when the requester is in that set and goes back as is: the
-- caller drops the requester and trims, which is cheaper than copying members in Lua.
local fromS = math.floor((want * cs + rnd % n) / n)
local fromL = want - fromS
out[5], out[6] = {}, {}
if fromL > 0 then out[5] = redis.call('ZRANDMEMBER', l, fromL + (selfL and 1 or 0)) end
if fromS > 0 then out[6] = redis.call('ZRANDMEMBER', s, fromS + (selfS and 1 or 0)) end
out[7], out[8] = fromL, fromS
return out
