/*
 * Lua run atomically inside Redis: the tags of start-time fair queuing (SFQ), kept in Bull's own
 * priority order so that the order in which workers take send jobs is the fair order.
 *
 * Within one priority class, each job's Bull priority is band + tag. A team's next message is
 * tagged max(V, its last tag) + 1/weight, where V, the class's virtual time, is the smallest tag
 * still waiting in the class (Bull's `priority` sorted set holds exactly the waiting jobs), or
 * the largest tag ever given when none waits. Teams with messages due therefore interleave in
 * proportion to their weights; a team alone advances V itself and gets every slot; a team that
 * arrives late starts at V, never behind the backlog of a team that came first.
 *
 * Numbers are written with %.17g: Lua's tostring keeps 14 digits, which would round tags.
 */

/**
 * KEYS[1] Bull's priority set, KEYS[2] the class's state hash (team → last tag, `~max`), KEYS[3]
 * the class's virtual time while its queue is empty (see below).
 * ARGV: band start, band end (exclusive), team, step (1 / weight), count.
 * Returns the tag before the first of `count` new ones (the i-th is start + i × step).
 *
 * Tags are given before their jobs reach Bull (the dispatcher adds them right after), so an empty
 * priority set does not mean nothing is waiting: two teams posting into an idle queue a few
 * milliseconds apart would put the second behind the whole of the first's batch if V were read
 * as `~max` then. The first batch into an empty queue therefore fixes V (KEYS[3]) until its jobs
 * are in Bull (FairShare.enqueue then drops it, and the head is V again), or two seconds at most,
 * far longer than any batch takes to be added, should that process die in between.
 */
export const TAG_LUA = `
local band = tonumber(ARGV[1])
local head = redis.call('ZRANGEBYSCORE', KEYS[1], band, '(' .. ARGV[2], 'LIMIT', 0, 1, 'WITHSCORES')
local max = tonumber(redis.call('HGET', KEYS[2], '~max') or '0')
local v
if head[2] then
  v = tonumber(head[2]) - band
else
  v = tonumber(redis.call('GET', KEYS[3]) or '')
  if not v then
    v = max
    redis.call('SET', KEYS[3], string.format('%.17g', v), 'PX', 2000)
  end
end
local last = tonumber(redis.call('HGET', KEYS[2], ARGV[3]) or '0')
local start = math.max(v, last)
local finish = start + tonumber(ARGV[4]) * tonumber(ARGV[5])
redis.call('HSET', KEYS[2], ARGV[3], string.format('%.17g', finish))
if finish > max then redis.call('HSET', KEYS[2], '~max', string.format('%.17g', finish)) end
return string.format('%.17g', start)
`;

/**
 * KEYS[1] the team's high-priority count for this minute. ARGV: allowance, count.
 * Returns how many of `count` new high-priority messages stay high; the rest wait as normal.
 */
export const ALLOWANCE_LUA = `
local allowance = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local kept = math.max(0, math.min(count, allowance - used))
if kept > 0 then
  redis.call('INCRBY', KEYS[1], kept)
  redis.call('PEXPIRE', KEYS[1], 120000)
end
return kept
`;
