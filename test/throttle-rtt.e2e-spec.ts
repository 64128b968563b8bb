import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import {
  RedisRateLimiter,
  type RedisRateLimiterOptions,
} from '../apps/notification-service/src/provider/throttle';
import type { RateLimitInfo } from '../libs/sms-provider/src/types';
import { deleteRedisKeys, waitFor } from '../tools/stack';

/**
 * The round-trip credit of the throttle's log (SETTLE_LUA in gcra.lua.ts, docs/guarantees.md):
 * what score an answered call gets, read from the log in Redis itself. A call's score is the latest
 * moment the provider may have counted it; the next `limit` + 1-th call waits until a second after.
 */
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const RUN_PREFIX = `test:throttle-rtt:${process.pid}:${Date.now()}:`;
/** Round trips kept, all needed before they earn a credit (RTT_SAMPLES in the limiter). */
const SAMPLES = 64;

const connections: Redis[] = [];
const admin = new Redis(REDIS_URL);
let scenario = 0;

/** A generous limit: these tests are about scores, not about being held. */
function instances(
  count: number,
  options: Omit<RedisRateLimiterOptions, 'keyPrefix'> = { limitPerSecond: 1000 },
): { prefix: string; limiters: RedisRateLimiter[] } {
  scenario += 1;
  const prefix = `${RUN_PREFIX}${scenario}:`;
  const limiters = Array.from({ length: count }, () => {
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
    connections.push(redis);
    return new RedisRateLimiter(redis, { ...options, keyPrefix: prefix });
  });
  return { prefix, limiters };
}

interface Scored {
  /** Its own round trip, commit to settle, as the limiter measured it (ms). */
  rtt: number;
  /** How far past its commit the log scored it (ms). */
  offset: number;
  /** The credit the rule gives with the round trips known right after it (ms), 0 for none. */
  credit: number;
}

/** What SETTLE_LUA should have given, from the round trips in Redis (µs → ms). */
function expectedCredit(trips: number[]): number {
  if (trips.length < SAMPLES) return 0;
  const sorted = [...trips].sort((a, b) => a - b);
  const margin = Math.max(1000, sorted[Math.ceil(sorted.length / 4) - 1] - sorted[0]);
  return Math.max(0, sorted[0] - margin) / 1000;
}

/** One call the provider answers after `ms`, made alone, and how the log scored it. */
async function call(
  prefix: string,
  limiter: RedisRateLimiter,
  ms: number,
  rateLimit?: RateLimitInfo,
): Promise<Scored> {
  const permit = await limiter.acquire('send');
  const [member, committed] = await admin.zrange(
    `${prefix}{throttle}:commits`,
    -1,
    -1,
    'WITHSCORES',
  );
  if (ms > 0) await delay(ms);
  await permit.answered(rateLimit);
  const score = await admin.zscore(`${prefix}{throttle}:log`, member);
  const trips = (await admin.lrange(`${prefix}{throttle}:rtt`, 0, -1)).map(Number);
  const widened = (await admin.exists(`${prefix}{throttle}:widened`)) === 1;
  return {
    rtt: trips[0] / 1000,
    offset: (Number(score) - Number(committed)) / 1000,
    credit: widened ? 0 : expectedCredit(trips),
  };
}

/** `count` calls answered after `ms`, eight at a time. */
async function warmUp(limiter: RedisRateLimiter, ms: number, count = SAMPLES): Promise<void> {
  let left = count;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (left > 0) {
        left -= 1;
        const permit = await limiter.acquire('send');
        await delay(ms);
        await permit.answered();
      }
    }),
  );
}

/** The score the rule gives: the answer less the credit, never before the commit. */
function expectScoredByTheRule({ rtt, offset, credit }: Scored): void {
  expect(offset).toBeCloseTo(Math.max(0, rtt - credit), 2);
}

afterAll(async () => {
  try {
    await deleteRedisKeys(REDIS_URL, `${RUN_PREFIX}*`);
  } finally {
    await admin.quit();
    await Promise.all(connections.map((c) => c.quit()));
  }
});

describe('the round-trip credit of the throttle log (real Redis)', () => {
  it('scores a call at its answer until 64 round trips are known, then at the answer less the credit', async () => {
    const { prefix, limiters } = instances(1);
    const [limiter] = limiters;
    await warmUp(limiter, 50, SAMPLES - 2);
    // 63 known with its own: nothing is assumed, the provider may have counted it at the answer.
    const uncredited = await call(prefix, limiter, 50);
    expect(uncredited.credit).toBe(0);
    expect(uncredited.offset).toBeCloseTo(uncredited.rtt, 2);
    // The 64th round trip is the next call's own: from it on, the credit applies to every call.
    const credited = [await call(prefix, limiter, 50), await call(prefix, limiter, 50)];
    for (const scored of credited) {
      expect(scored.credit).toBeGreaterThan(0);
      expect(scored.offset).toBeLessThan(scored.rtt);
      expectScoredByTheRule(scored);
    }
  });

  it('a faster answer lowers the credit at once, and no call is scored before its commit', async () => {
    const { prefix, limiters } = instances(1);
    const [limiter] = limiters;
    await warmUp(limiter, 100);
    const slow = await call(prefix, limiter, 100);
    expect(slow.credit).toBeGreaterThan(50);
    // Answered at once: its round trip is the fastest, and it is scored at its commit at most.
    const fast = await call(prefix, limiter, 0);
    expect(fast.offset).toBeGreaterThanOrEqual(0);
    expectScoredByTheRule(fast);
    // The fastest round trip is now ~0 ms, and so is the credit of the next slow call.
    const after = await call(prefix, limiter, 100);
    expect(after.credit).toBeLessThan(5);
    expectScoredByTheRule(after);
  });

  it('a 429 withdraws the credit for every process sharing the budget, until widenForMs passes', async () => {
    const { prefix, limiters } = instances(2, { limitPerSecond: 1000, widenForMs: 1500 });
    const [a, b] = limiters;
    await warmUp(a, 50);
    // The round trips are shared: b has made no call of its own and gets the credit.
    const shared = await call(prefix, b, 50);
    expect(shared.credit).toBeGreaterThan(0);
    expectScoredByTheRule(shared);

    await a.backoff(1);
    expect(a.stats().marginWidened).toBe(1);
    for (const limiter of [b, a]) {
      const withdrawn = await call(prefix, limiter, 50);
      expect(withdrawn.credit).toBe(0);
      expect(withdrawn.offset).toBeCloseTo(withdrawn.rtt, 2);
    }

    await waitFor(async () => (await admin.exists(`${prefix}{throttle}:widened`)) === 0, {
      what: 'the withdrawal to expire',
      timeoutMs: 5000,
      intervalMs: 50,
    });
    const back = await call(prefix, b, 50);
    expect(back.credit).toBeGreaterThan(0);
    expectScoredByTheRule(back);
  });

  it('an X-RateLimit-Remaining lower than the log allows withdraws the credit; one it allows does not', async () => {
    const { prefix, limiters } = instances(1);
    const [limiter] = limiters;
    await warmUp(limiter, 50);

    // One call in the provider's window: whatever the log holds, that is possible.
    const plausible = { limit: 1000, remaining: 999, resetSeconds: 1 };
    expect((await call(prefix, limiter, 50, plausible)).credit).toBeGreaterThan(0);
    expect(limiter.stats().marginWidened).toBe(0);

    // The provider counted 1,000 in its window, the log knows of a few dozen calls in the last
    // second: another client uses the key, or the provider counts calls sooner than assumed.
    const crowded = { limit: 1000, remaining: 0, resetSeconds: 1 };
    await call(prefix, limiter, 50, crowded);
    expect(limiter.stats().marginWidened).toBe(1);
    expect(await admin.pttl(`${prefix}{throttle}:widened`)).toBeGreaterThan(250_000);
    const withdrawn = await call(prefix, limiter, 50, plausible);
    expect(withdrawn.credit).toBe(0);
    expect(withdrawn.offset).toBeCloseTo(withdrawn.rtt, 2);
  });

  it('a call given back unused leaves the log and its commit, and adds no round trip', async () => {
    const { prefix, limiters } = instances(1);
    const [limiter] = limiters;
    const permit = await limiter.acquire('send');
    await permit.unused();
    expect(await admin.zcard(`${prefix}{throttle}:log`)).toBe(0);
    expect(await admin.zcard(`${prefix}{throttle}:commits`)).toBe(0);
    expect(await admin.llen(`${prefix}{throttle}:rtt`)).toBe(0);
  });
});
