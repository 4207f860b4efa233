-- One announce in one round trip (swarm tracker, tracker/redisstore).
-- KEYS: seeders zset, leechers zset, downloaded counter; all share the {infohash} hash tag.
-- ARGV: member (compact address), now ms, cutoff ms, key TTL ms, flags ("SCDN": seeder,
-- completed, stopped, no-create as 0/1), numwant, max peers (0 = none), a random integer.
-- Returns {complete, incomplete, downloaded, status, peer...}; status: 0 ok, 1 created,
-- 2 swarm full (not stored), -1 not created (no-create).
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
if seeder and not inS and (completed or inL) then
  redis.call('INCR', d)
end
if stopped then
  if inS then redis.call('ZREM', s, member) end
  if inL then redis.call('ZREM', l, member) end
else
  local known = inS or inL
  if not known and maxpeers > 0 and redis.call('ZCARD', s) + redis.call('ZCARD', l) >= maxpeers then
    status = 2
  else
    if seeder then
      if inL then redis.call('ZREM', l, member) end
      redis.call('ZADD', s, now, member)
    else
      if inS then redis.call('ZREM', s, member) end
      redis.call('ZADD', l, now, member)
    end
  end
end
-- Swarms nobody announces to vanish by themselves.
redis.call('PEXPIRE', s, ttl)
redis.call('PEXPIRE', l, ttl)
redis.call('PEXPIRE', d, ttl)

local ns, nl = redis.call('ZCARD', s), redis.call('ZCARD', l)
local out = {ns, nl, tonumber(redis.call('GET', d) or '0'), status}
if stopped or numwant <= 0 then
  return out
end
-- Candidates: leechers, plus seeders for a leecher; never the requester itself.
local selfS, selfL = redis.call('ZSCORE', s, member) ~= false, redis.call('ZSCORE', l, member) ~= false
local cl = nl - (selfL and 1 or 0)
local cs = 0
if not seeder then cs = ns - (selfS and 1 or 0) end
local n = cl + cs
if n <= 0 then
  return out
end
local want = math.min(numwant, n)
-- Seeders in proportion, rounded at random so that the expected share is exact.
local fromS = math.floor((want * cs + rnd % n) / n)
local function take(key, k, self)
  if k <= 0 then return end
  local got = redis.call('ZRANDMEMBER', key, k + (self and 1 or 0))
  local added = 0
  for _, m in ipairs(got) do
    if added == k then break end
    if m ~= member then
      out[#out + 1] = m
      added = added + 1
    end
  end
end
take(l, want - fromS, selfL)
take(s, fromS, selfS)
return out
