/*
 * Lua run atomically inside Redis. Every time is Redis server time (TIME) in whole microseconds,
 * so the clocks of our processes never enter the schedule, and integer microseconds stay exact in
 * Lua's doubles (~1.8e15 today, far below 2^53).
 *
 * The state hash holds:
 *   tat     theoretical arrival time: the earliest free slot
 *   gen     generation, bumped by a backoff; a reservation of an older generation is void
 *   blocked the end of the latest backoff, so a shorter backoff never cuts a longer one short
 *
 * The log sorted set holds one member per provider call, scored by the latest moment the provider
 * may have counted it (see COMMIT_LUA); the commits sorted set the same members scored by when
 * they were logged. The rtt list holds the round trips (commit to settle) of the latest answered
 * calls, newest first; the widened key, while it exists, withdraws the credit they earn.
 *
 * Numbers are written with %.0f because Lua's tostring would turn 1.7e15 into "1.7e+15".
 */

/** Shared prologue: server time and the emission interval of the limit in force. */
const PROLOGUE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local reported = tonumber(redis.call('GET', KEYS[2]) or '')
if reported and reported > 0 and reported < limit then limit = reported end
-- Rounded up so rounding can only space slots further apart, never closer.
local interval = math.ceil(1000000 / (limit * tonumber(ARGV[2])))
local function keep(tat)
  -- Outlive the last reservation by a minute so a generation is never forgotten while a
  -- reservation of it is still waiting; an idle limiter leaves nothing behind.
  redis.call('PEXPIRE', KEYS[1], math.ceil((tat - now) / 1000) + 60000)
end
`;

/**
 * KEYS: state hash, provider-limit key.
 * ARGV: configured limit/s, safety factor, send horizon (µs), kind ('send' | 'poll').
 * Returns {granted 0|1, wait or retry-in (µs), generation}.
 */
export const RESERVE_LUA = `${PROLOGUE}
local state = redis.call('HMGET', KEYS[1], 'tat', 'gen')
local tat = tonumber(state[1]) or now
local gen = state[2] or '0'
if tat < now then tat = now end
local wait = tat - now
local horizon = tonumber(ARGV[3])
-- A poll only takes a slot nobody else is queued for; otherwise it would delay sends.
if ARGV[4] == 'poll' then horizon = interval end
if wait > horizon then
  return {0, wait - horizon, gen}
end
local nextTat = tat + interval
redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', nextTat))
keep(nextTat)
return {1, wait, gen}
`;

/**
 * A 429 also means the log let more through than the provider takes: whatever the cause, the
 * round-trip credit (SETTLE_LUA) is withdrawn for a while.
 *
 * KEYS: state hash, provider-limit key, widened key.
 * ARGV: configured limit/s, safety factor, backoff (µs), how long the credit stays withdrawn (ms).
 * Returns 1 when it moved the schedule, 0 when an earlier, longer backoff already covers it.
 */
export const BACKOFF_LUA = `${PROLOGUE}
redis.call('SET', KEYS[3], '429', 'PX', tonumber(ARGV[4]))
local wanted = now + tonumber(ARGV[3])
local blocked = tonumber(redis.call('HGET', KEYS[1], 'blocked')) or 0
if wanted <= blocked then return 0 end
-- Every reservation still waiting is voided (new generation) and must queue again after the
-- block, so the TAT restarts at the block's end instead of after the voided slots. Slots already
-- used are all <= now: one interval of distance to them keeps the spacing even for a tiny backoff.
local resume = math.max(wanted, now + interval)
redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', resume), 'blocked', string.format('%.0f', resume))
redis.call('HINCRBY', KEYS[1], 'gen', 1)
keep(resume)
return 1
`;

/**
 * The hard cap, checked just before a call goes out: at most `limit` calls in any window of the
 * provider's second. A call is in the log from this check until the provider answered it, and a
 * second after: it reached the provider at some moment between the two, and only then does the
 * provider count it. Whatever delays the call on its way (a busy event loop, a descheduled process,
 * a cold connection, the provider's own queueing), the provider cannot have counted it later than
 * its answer, so `limit` + 1 calls cannot land in one of its seconds.
 *
 * The member's score is the latest moment the provider may count the call: now + counted-within
 * at first (in the future, so it counts and stays out of the trimming), brought down by SETTLE_LUA
 * to the moment of the answer if that comes sooner. A call that never settles (its process died
 * mid-call, or no answer came) counts until a second after the first bound.
 *
 * The commit time is kept beside (commits) for SETTLE_LUA: the round trip, and which calls went
 * out while this one was on its way.
 *
 * KEYS: state hash, provider-limit key, log sorted set, commits sorted set.
 * ARGV: configured limit/s, safety factor, generation of the reservation, the call's member,
 * counted-within (µs), longest wait to return while the window is full of calls in flight
 * (µs), window (µs).
 * Returns {1, 0, calls in the log before this one} when the call is logged and may go out now,
 * {0, wait (µs), 0} when the window is full, {-1, 0, 0} when a backoff voided the reservation
 * (its generation is gone).
 */
export const COMMIT_LUA = `${PROLOGUE}
local gen = redis.call('HGET', KEYS[1], 'gen') or '0'
if gen ~= ARGV[3] then return {-1, 0, 0} end
local cap = math.max(math.floor(limit), 1)
local countedWithin = tonumber(ARGV[5])
local window = tonumber(ARGV[7])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', string.format('%.0f', now - window))
local count = redis.call('ZCARD', KEYS[3])
if count >= cap then
  -- The call that has to leave the window before this one fits (not the oldest when the limit
  -- just dropped). Still in flight, it leaves a second after an answer nobody can foresee: look
  -- again soon.
  local blocking = tonumber(redis.call('ZRANGE', KEYS[3], count - cap, count - cap, 'WITHSCORES')[2])
  local wait = blocking + window - now + 1
  if blocking > now then wait = math.min(wait, tonumber(ARGV[6])) end
  return {0, wait, 0}
end
local keepMs = math.ceil((countedWithin + window) / 1000) + 1000
redis.call('ZADD', KEYS[3], string.format('%.0f', now + countedWithin), ARGV[4])
redis.call('PEXPIRE', KEYS[3], keepMs)
-- A commit matters as long as its call can be in the log.
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', string.format('%.0f', now - countedWithin - window))
redis.call('ZADD', KEYS[4], string.format('%.0f', now), ARGV[4])
redis.call('PEXPIRE', KEYS[4], keepMs)
return {1, 0, count}
`;

/**
 * Settles a logged call. 'unused': no request went out, so the call leaves the log.
 *
 * 'answered': the provider answered, so it counted the call before now; how long before is what
 * the round trips tell (docs/guarantees.md, "Why the rate limit holds"). Every call's way to the
 * provider (F) and back (R) is at least as long as the fastest recent round trip, less a margin:
 * the spread of the fastest quarter of the recent round trips, at least ARGV[3]. So the call was
 * counted by now − R, and any later call is counted no sooner than its commit + F: scoring this
 * one at now − (fastest − margin), never below its commit, keeps a later call out of its second
 * exactly as scoring it at now did. Fewer than ARGV[5] samples, or a withdrawn credit (widened),
 * score it at now, the rule that assumes nothing. The score only ever moves down (LT), and a member
 * already trimmed stays gone (XX).
 *
 * The check of that assumption: the provider's X-RateLimit-Remaining says how many calls it
 * counted in its window up to this one. Under the assumption those can only be calls that were in
 * the log when this one was committed (ARGV[8]), this one, and calls committed while it was on its
 * way early enough to be counted before it. More than that, and the assumption (or the account's
 * exclusive use) failed: the credit is withdrawn for ARGV[9] ms, for every process.
 *
 * KEYS: log sorted set, commits sorted set, rtt list, widened key.
 * ARGV: member, 'answered' | 'unused', least margin (µs), round trips kept, round trips needed,
 * provider's limit (-1: unknown), provider's remaining (-1: unknown), calls in the log at commit,
 * how long a failed check withdraws the credit (ms).
 * Returns 1 when this answer withdrew the credit, else 0.
 */
export const SETTLE_LUA = `
if ARGV[2] == 'unused' then
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local committed = tonumber(redis.call('ZSCORE', KEYS[2], ARGV[1]))
if not committed then
  -- Answered after its commit was forgotten (counted-within passed): it counts until now.
  redis.call('ZADD', KEYS[1], 'XX', 'LT', string.format('%.0f', now), ARGV[1])
  return 0
end
local kept = tonumber(ARGV[4])
redis.call('LPUSH', KEYS[3], string.format('%.0f', now - committed))
redis.call('LTRIM', KEYS[3], 0, kept - 1)
-- Kept through idle spells: a route grown slower only leaves the credit too small, and a faster
-- one shows in the first answer over it.
redis.call('PEXPIRE', KEYS[3], 3600000)
local credit = 0
if redis.call('EXISTS', KEYS[4]) == 0 then
  local trips = redis.call('LRANGE', KEYS[3], 0, -1)
  if #trips >= tonumber(ARGV[5]) then
    for i = 1, #trips do trips[i] = tonumber(trips[i]) end
    table.sort(trips)
    local margin = math.max(tonumber(ARGV[3]), trips[math.ceil(#trips / 4)] - trips[1])
    credit = math.max(0, trips[1] - margin)
  end
end
local score = math.max(committed, now - credit)
redis.call('ZADD', KEYS[1], 'XX', 'LT', string.format('%.0f', score), ARGV[1])
local limit = tonumber(ARGV[6])
local remaining = tonumber(ARGV[7])
if limit > 0 and remaining >= 0 then
  local upper = now - credit
  local after = 0
  if upper >= committed then
    after = redis.call('ZCOUNT', KEYS[2], string.format('%.0f', committed), string.format('%.0f', upper)) - 1
  end
  if limit - remaining > tonumber(ARGV[8]) + 1 + after then
    redis.call('SET', KEYS[4], 'remaining', 'PX', tonumber(ARGV[9]))
    return 1
  end
end
return 0
`;
