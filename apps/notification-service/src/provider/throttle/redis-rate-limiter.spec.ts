import type { Redis } from 'ioredis';
import { maxInSlidingWindow } from './sliding-window';
import { RedisRateLimiter, emissionIntervalMs } from './redis-rate-limiter';

/** Just enough of ioredis for the constructor; behaviour is covered against real Redis in test/. */
function fakeRedis(): Redis {
  const fake: Record<string, unknown> = {
    defineCommand(name: string) {
      fake[name] = () => Promise.resolve([1, 0, '0']);
    },
  };
  return fake as unknown as Redis;
}

describe(RedisRateLimiter.name, () => {
  it.each([
    [{ limitPerSecond: 0 }],
    [{ limitPerSecond: Number.NaN }],
    [{ limitPerSecond: 10, safetyFactor: 0 }],
    [{ limitPerSecond: 10, safetyFactor: 1.01 }],
    [{ limitPerSecond: 10, maxReserveMs: -1 }],
    [{ limitPerSecond: 10, providerLimitTtlMs: 0 }],
    [{ limitPerSecond: 10, rttMarginMs: -1 }],
    [{ limitPerSecond: 10, rttMarginMs: Number.POSITIVE_INFINITY }],
    [{ limitPerSecond: 10, widenForMs: 0 }],
    [{ limitPerSecond: 10, widenForMs: 1.5 }],
  ])('rejects bad options %j', (options) => {
    expect(() => new RedisRateLimiter(fakeRedis(), { keyPrefix: 't:', ...options })).toThrow(
      RangeError,
    );
  });

  it('accepts the defaults', () => {
    expect(
      () => new RedisRateLimiter(fakeRedis(), { keyPrefix: 't:', limitPerSecond: 10 }),
    ).not.toThrow();
  });
});

describe(emissionIntervalMs.name, () => {
  it('spaces slots so that limit + 1 of them never fit in one second', () => {
    for (const limit of [1, 5, 10, 50, 100]) {
      const t = emissionIntervalMs(limit, 0.98);
      const slots = Array.from({ length: limit * 5 }, (_, i) => i * t);
      expect(maxInSlidingWindow(slots, 1000)).toBeLessThanOrEqual(limit);
      expect(maxInSlidingWindow(slots, 1000)).toBeGreaterThanOrEqual(Math.floor(limit * 0.98));
      // The margin that absorbs arrival jitter: limit + 1 slots span ~1020 ms at any limit.
      expect(limit * t - 1000).toBeCloseTo(1000 / 0.98 - 1000, 6);
    }
  });

  it('is exactly 1000/limit with no safety factor', () => {
    expect(emissionIntervalMs(10, 1)).toBe(100);
  });
});
