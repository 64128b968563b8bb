/*
 * Lua run atomically inside Redis: the check and the count of one message against its number's
 * cap are one step, so however many instances ask at once, exactly `limit` messages get in.
 *
 * A sliding window log: a sorted set per number and category, one member per message counted
 * (its id), scored by the Redis server time (TIME, in ms) it was counted at. Every instance thus
 * reads one clock. A message counts from that moment until `window` later.
 *
 * KEYS: the number's log for the category.
 * ARGV: limit, window (ms), message id.
 * Returns 1 when the message may go (now counted, or counted already), 0 when the cap is reached.
 *
 * A message already in the log is allowed without a second count: intake counts it and the send
 * path asks again, and a job may run twice. Numbers are written with %.0f because Lua's tostring
 * would turn 1.7e12 into "1.7e+12".
 */
export const TAKE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - window))
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then return 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], string.format('%.0f', now), ARGV[3])
-- The newest member leaves the window last: then the whole log is worthless.
redis.call('PEXPIRE', KEYS[1], window)
return 1
`;
