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
 * may have counted it (see COMMIT_LUA).
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
 * KEYS: state hash, provider-limit key.
 * ARGV: configured limit/s, safety factor, backoff (µs).
 * Returns 1 when it moved the schedule, 0 when an earlier, longer backoff already covers it.
 */
export const BACKOFF_LUA = `${PROLOGUE}
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
 * KEYS: state hash, provider-limit key, log sorted set.
 * ARGV: configured limit/s, safety factor, generation of the reservation, the call's member,
 * counted-within (µs), longest wait to return while the window is full of calls in flight
 * (µs), window (µs).
 * Returns {1, 0} when the call is logged and may go out now, {0, wait (µs)} when the window is
 * full, {-1, 0} when a backoff voided the reservation (its generation is gone).
 */
export const COMMIT_LUA = `${PROLOGUE}
local gen = redis.call('HGET', KEYS[1], 'gen') or '0'
if gen ~= ARGV[3] then return {-1, 0} end
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
  return {0, wait}
end
redis.call('ZADD', KEYS[3], string.format('%.0f', now + countedWithin), ARGV[4])
redis.call('PEXPIRE', KEYS[3], math.ceil((countedWithin + window) / 1000) + 1000)
return {1, 0}
`;

/**
 * Settles a logged call. 'answered': the provider answered, so it counted the call at the latest
 * now; the score only ever moves down (LT), and a member already trimmed stays gone (XX).
 * 'unused': no request went out, so the call leaves the log.
 *
 * KEYS: log sorted set. ARGV: member, 'answered' | 'unused'.
 */
export const SETTLE_LUA = `
if ARGV[2] == 'unused' then return redis.call('ZREM', KEYS[1], ARGV[1]) end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
return redis.call('ZADD', KEYS[1], 'XX', 'LT', string.format('%.0f', now), ARGV[1])
`;
