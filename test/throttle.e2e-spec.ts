import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import {
  RedisRateLimiter,
  maxInSlidingWindow,
  type RedisRateLimiterOptions,
  type ThrottleKind,
} from '../apps/notification-service/src/provider/throttle';
import { deleteRedisKeys } from '../tools/stack';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// Unique per run so parallel runs and other suites sharing this Redis never see our budget.
const RUN_PREFIX = `test:throttle:${process.pid}:${Date.now()}:`;

const connections: Redis[] = [];
const admin = new Redis(REDIS_URL);
let scenario = 0;

function newPrefix(): string {
  scenario += 1;
  return `${RUN_PREFIX}${scenario}:`;
}

/** One limiter per "process": each with its own connection, as separate instances would have. */
function instances(
  count: number,
  options: Omit<RedisRateLimiterOptions, 'keyPrefix'> & { keyPrefix?: string },
): RedisRateLimiter[] {
  const keyPrefix = options.keyPrefix ?? newPrefix();
  return Array.from({ length: count }, () => {
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
    connections.push(redis);
    return new RedisRateLimiter(redis, { ...options, keyPrefix });
  });
}

/** One call the provider answers at once; resolves to when it was made. */
async function callOnce(limiter: RedisRateLimiter, kind: ThrottleKind = 'send'): Promise<number> {
  const permit = await limiter.acquire(kind);
  const at = Date.now();
  await permit.answered();
  return at;
}

/** Starts `total` calls at once, spread round-robin over the instances; resolves to their times. */
function acquireMany(
  limiters: RedisRateLimiter[],
  total: number,
  kind: ThrottleKind = 'send',
): Promise<number[]> {
  return Promise.all(
    Array.from({ length: total }, (_, i) => callOnce(limiters[i % limiters.length], kind)),
  );
}

afterAll(async () => {
  try {
    await deleteRedisKeys(REDIS_URL, `${RUN_PREFIX}*`);
    const [, left] = await admin.scan('0', 'MATCH', `${RUN_PREFIX}*`, 'COUNT', 100_000);
    expect(left).toEqual([]);
  } finally {
    await admin.quit();
    await Promise.all(connections.map((c) => c.quit()));
  }
});

describe('RedisRateLimiter against real Redis', () => {
  it('shares one budget between 3 instances: never more than 10 in any sliding second at 10/s', async () => {
    const limiters = instances(3, { limitPerSecond: 10 });
    const start = Date.now();
    const grants = await acquireMany(limiters, 60);
    const elapsed = Math.max(...grants) - start;

    expect(maxInSlidingWindow(grants, 1000)).toBeLessThanOrEqual(10);
    // 59 gaps of 1000 / 9.8 ms = 6020 ms: faster would break the limit, much slower wastes budget.
    expect(elapsed).toBeGreaterThanOrEqual(5900);
    expect(elapsed).toBeLessThanOrEqual(7500);
  });

  it('keeps to a 50/s plan as well: 150 tokens, never more than 50 in any sliding second', async () => {
    const limiters = instances(3, { limitPerSecond: 50 });
    const start = Date.now();
    const grants = await acquireMany(limiters, 150);
    const elapsed = Math.max(...grants) - start;

    expect(maxInSlidingWindow(grants, 1000)).toBeLessThanOrEqual(50);
    // 149 gaps of 1000 / 49 ms = 3041 ms.
    expect(elapsed).toBeGreaterThanOrEqual(2950);
    expect(elapsed).toBeLessThanOrEqual(4000);
  });

  it('lets a lower X-RateLimit-Limit win for every instance, and never rises above the plan', async () => {
    const keyPrefix = newPrefix();
    const limiters = instances(3, { keyPrefix, limitPerSecond: 10 });
    const [a, b, c] = limiters;
    const limitKey = `${keyPrefix}{throttle}:provider-limit`;

    await a.setLimitFromProvider(5);
    expect(await b.effectiveLimit()).toBe(5);
    expect(await c.effectiveLimit()).toBe(5);
    const ttl = await admin.pttl(limitKey);
    expect(ttl).toBeGreaterThan(3_590_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);

    const start = Date.now();
    const slow = await acquireMany(limiters, 15);
    expect(maxInSlidingWindow(slow, 1000)).toBeLessThanOrEqual(5);
    // 14 gaps of 1000 / 4.9 ms.
    expect(Math.max(...slow) - start).toBeGreaterThanOrEqual(2800);

    // Seeing the value again keeps it alive.
    await admin.pexpire(limitKey, 1000);
    await b.setLimitFromProvider(5);
    expect(await admin.pttl(limitKey)).toBeGreaterThan(3_590_000);

    // Nonsense from the provider changes nothing.
    await c.setLimitFromProvider(Number.NaN);
    await c.setLimitFromProvider(0);
    expect(await a.effectiveLimit()).toBe(5);

    // A higher value ends the reduction but never lifts the plan's own limit.
    await b.setLimitFromProvider(50);
    expect(await admin.exists(limitKey)).toBe(0);
    for (const limiter of limiters) expect(await limiter.effectiveLimit()).toBe(10);

    await delay(250); // let the 5/s schedule run out so the next one starts from idle
    const fastStart = Date.now();
    const fast = await acquireMany(limiters, 25);
    expect(maxInSlidingWindow(fast, 1000)).toBeLessThanOrEqual(10);
    expect(Math.max(...fast) - fastStart).toBeGreaterThanOrEqual(2400);
  });

  it('backoff delays the next grant of every instance, idle or with reservations waiting', async () => {
    const idle = instances(3, { limitPerSecond: 10 });
    const idleBefore = Date.now();
    await idle[1].backoff(500);
    const idleGrants = await Promise.all(idle.map((limiter) => callOnce(limiter)));
    for (const g of idleGrants) expect(g).toBeGreaterThanOrEqual(idleBefore + 499);

    const busy = instances(3, { limitPerSecond: 10 });
    const pending = acquireMany(busy, 30);
    await delay(350);
    const before = Date.now();
    await busy[2].backoff(500);
    const after = Date.now();
    const grants = await pending;

    // Whatever had not fired when the backoff landed waits for it; nothing fires inside it.
    const early = grants.filter((g) => g <= after + 25);
    const late = grants.filter((g) => g > after + 25);
    expect(early.length).toBeGreaterThanOrEqual(2);
    expect(early.length).toBeLessThanOrEqual(6);
    for (const g of late) expect(g).toBeGreaterThanOrEqual(before + 499);
    expect(maxInSlidingWindow(grants, 1000)).toBeLessThanOrEqual(10);

    // A shorter backoff never cuts a longer one short.
    const [x, y] = instances(2, { limitPerSecond: 10 });
    const longBefore = Date.now();
    await x.backoff(800);
    await y.backoff(100);
    await callOnce(y);
    expect(Date.now()).toBeGreaterThanOrEqual(longBefore + 799);
  });

  it('grants polls only when no send is queued, and never exceeds the limit with both', async () => {
    const [idle] = instances(1, { limitPerSecond: 10 });
    expect(await idle.reserve('poll')).toEqual({ granted: true, waitMs: 0 });

    const [queue] = instances(1, { limitPerSecond: 10 });
    for (let i = 0; i < 20; i += 1) {
      expect(await queue.reserve('send')).toMatchObject({ granted: true });
    }
    const refused = await queue.reserve('poll');
    expect(refused.granted).toBe(false);
    // 20 slots (~2040 ms) are queued; a poll fits once at most one interval is left.
    if (!refused.granted) {
      expect(refused.retryInMs).toBeGreaterThan(1700);
      expect(refused.retryInMs).toBeLessThan(2000);
      await delay(refused.retryInMs + 5);
    }
    const later = await queue.reserve('poll');
    expect(later.granted).toBe(true);
    if (later.granted) expect(later.waitMs).toBeLessThanOrEqual(1000 / 9.8);

    const mixed = instances(3, { limitPerSecond: 10 });
    const sends = acquireMany(mixed, 20, 'send');
    await delay(50);
    const polls = acquireMany(mixed, 20, 'poll');
    const [sendGrants, pollGrants] = await Promise.all([sends, polls]);

    // Every send was queued before the polls arrived, so polls only get the budget after them;
    // the one exception is a send the log held back past a poll's slot.
    const lastSend = Math.max(...sendGrants);
    const held = mixed.reduce((sum, limiter) => sum + limiter.stats().heldByLog, 0);
    expect(pollGrants.filter((p) => p < lastSend).length).toBeLessThanOrEqual(held);
    expect(maxInSlidingWindow([...sendGrants, ...pollGrants], 1000)).toBeLessThanOrEqual(10);
  });

  it('refuses sends beyond the reservation horizon and still serves them all in time', async () => {
    const [single] = instances(1, { limitPerSecond: 10, maxReserveMs: 250 });
    const replies = [];
    for (let i = 0; i < 5; i += 1) replies.push(await single.reserve('send'));
    expect(replies.map((r) => r.granted)).toEqual([true, true, true, false, false]);

    const limiters = instances(3, { limitPerSecond: 10, maxReserveMs: 250 });
    const start = Date.now();
    const grants = await acquireMany(limiters, 20);
    expect(maxInSlidingWindow(grants, 1000)).toBeLessThanOrEqual(10);
    expect(Math.max(...grants) - start).toBeGreaterThanOrEqual(1900);
    expect(Math.max(...grants) - start).toBeLessThanOrEqual(3000);
  });

  it('holds back the call `limit` places after one that went out late, so none is squeezed', async () => {
    const [limiter] = instances(1, { limitPerSecond: 10 });
    const grants: number[] = [await callOnce(limiter)];
    const rest = Array.from({ length: 11 }, async () => {
      grants.push(await callOnce(limiter));
    });
    await delay(20);
    // Block this event loop past the second slot (~102 ms): that call goes out ~50 ms late, while
    // the slots after it keep their times.
    const spinUntil = Date.now() + 130;
    while (Date.now() < spinUntil) {
      // busy on purpose
    }
    await Promise.all(rest);

    grants.sort((x, y) => x - y);
    expect(grants[1] - grants[0]).toBeGreaterThanOrEqual(140);
    // Its slot alone would put the 12th call ~970 ms after the late one; the log makes it wait
    // for a second after the late one's answer instead.
    expect(grants[11] - grants[1]).toBeGreaterThanOrEqual(999);
    expect(maxInSlidingWindow(grants, 1000)).toBeLessThanOrEqual(10);
    expect(limiter.stats().acquired).toBe(12);
    expect(limiter.stats().heldByLog).toBeGreaterThanOrEqual(1);
  });

  it('counts a call as late as the provider answered it, however late that is', async () => {
    const [limiter] = instances(1, { limitPerSecond: 10 });
    // The provider takes 300 ms to answer the first call, and may have counted it at any moment
    // of those 300 ms. Counted when it was made, it would let the 11th call go on its slot
    // (~1020 ms), within a second of the answer, with 9 calls in between: 11 in one second.
    const slow = await limiter.acquire('send');
    const rest = acquireMany([limiter], 10);
    await delay(300);
    const answeredAt = Date.now();
    await slow.answered();
    const grants = await rest;

    expect(maxInSlidingWindow([answeredAt, ...grants], 1000)).toBeLessThanOrEqual(10);
    expect(limiter.stats().heldByLog).toBeGreaterThanOrEqual(1);
  });

  it('a call never settled counts for countedWithinMs; one that never went out frees its place', async () => {
    // Its process died mid-call: nobody will say when, within countedWithinMs, the provider counted it.
    const [orphaned] = instances(1, { limitPerSecond: 1, countedWithinMs: 400 });
    await orphaned.acquire('send');
    const orphanedAt = Date.now();
    const next = await callOnce(orphaned);
    // Its slot is ~1020 ms after the first; the log holds it to a second after the 400 ms.
    expect(next - orphanedAt).toBeGreaterThanOrEqual(1390);

    // Given back before any request left (the caller's claim lapsed): nothing to count.
    const [abandoned] = instances(1, { limitPerSecond: 1, countedWithinMs: 400 });
    const permit = await abandoned.acquire('send');
    const abandonedAt = Date.now();
    await permit.unused();
    expect((await callOnce(abandoned)) - abandonedAt).toBeLessThan(1200);
    expect(abandoned.stats().heldByLog).toBe(0);
  });

  it('tryAcquire takes a spare slot for a poll, and refuses while sends are queued', async () => {
    const [limiter] = instances(1, { limitPerSecond: 10 });
    await (await limiter.tryAcquire('poll'))?.answered();
    const sends = acquireMany([limiter], 5);
    // The first send waits behind the poll's slot; the poll after it finds 4 more queued.
    await delay(10);
    expect(await limiter.tryAcquire('poll')).toBeNull();
    const grants = await sends;
    expect(await limiter.tryAcquire('poll')).not.toBeNull();
    expect(maxInSlidingWindow(grants, 1000)).toBeLessThanOrEqual(10);
    expect(limiter.stats()).toMatchObject({ acquired: 7, refused: 1 });
  });

  it('a slot voided by a backoff: tryAcquire gives up, acquire queues again after the block', async () => {
    const [limiter, other] = instances(2, { limitPerSecond: 10 });
    await callOnce(limiter);
    const start = Date.now();
    const poll = limiter.tryAcquire('poll');
    const send = callOnce(other);
    await delay(20);
    await other.backoff(400);
    // Both slots (~102 and ~204 ms) lay inside the block when it landed.
    expect(await poll).toBeNull();
    expect(await send).toBeGreaterThanOrEqual(start + 400);
    expect(limiter.stats().requeuedAfterBackoff).toBe(1);
    expect(other.stats().requeuedAfterBackoff).toBe(1);
  });

  it('stops waiting when the signal aborts', async () => {
    const [limiter] = instances(1, { limitPerSecond: 1 });
    await callOnce(limiter);
    const controller = new AbortController();
    const waiting = limiter.acquire('send', controller.signal);
    setTimeout(() => controller.abort(new Error('shutting down')), 50);
    await expect(waiting).rejects.toThrow('shutting down');
    await expect(limiter.acquire('send', AbortSignal.abort())).rejects.toThrow();
  });
});
