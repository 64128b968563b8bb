import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { CacheInvalidation } from '../cache/cache-invalidation.service';
import type { InvalidatedCache, RowCaches } from '../cache/invalidated-cache';
import { ApiError } from '../common/errors/api-error';
import { raceTimeout } from '../common/race-timeout';
import { AppConfig } from '../config/app-config';
import type { RedisClient } from '../redis/redis-connection';
import { REDIS, redisKey } from '../redis/redis.module';

const CACHE_TOPIC = 'auth-failures';

/** The cache key of an address: the newline ends it, so one address is never another's prefix. */
function cacheKey(address: string): string {
  return `${address}\n`;
}

/** How long a Redis call may take before the limiter lets the request through. */
const REDIS_BUDGET_MS = 100;

/**
 * Failed authentication limited per client address, counted in Redis so that every instance
 * behind the load balancer shares the count: after `limit` failures in a window, that address
 * gets 429 with Retry-After until the window ends, valid key or not.
 *
 * Logged once per window, not once per request: the first failure of a window keeps its access
 * line (so an operator sees the first attempt at once, with its request id); the others are
 * counted and reported in one summary line when the window ends.
 *
 * Each instance keeps what it learnt of an address in memory, so a request costs no Redis call;
 * the instance whose failure takes an address over the limit tells the others (see
 * CacheInvalidation), and within 1 s they ask Redis again anyway when they can't hear
 * (ROW_CACHE_DEFAULTS).
 *
 * Redis trouble never blocks a request: a call slower than `REDIS_BUDGET_MS` or failing counts
 * as "not limited" (authentication itself still holds).
 */
@Injectable()
export class AuthFailureLimiter implements OnModuleDestroy {
  private readonly logger = new Logger('Auth');
  /** Failures and refusals after the first of the current window, and their addresses. */
  private quieted = 0;
  private readonly addresses = new Set<string>();
  private window: { startedAt: number; timer: NodeJS.Timeout } | undefined;
  /** When each address's limit ends (null: not limited), so that a request costs no Redis call. */
  private readonly limited: InvalidatedCache<number | null>;

  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(CacheInvalidation) private readonly caches: RowCaches,
    private readonly config: AppConfig,
  ) {
    this.limited = caches.cache(CACHE_TOPIC);
  }

  onModuleDestroy(): void {
    if (this.window) clearTimeout(this.window.timer);
    this.report();
  }

  /**
   * Throws 429 `too_many_failed_authentications` when `address` is over the limit. `quiet` is
   * called when the refusal falls into the current window's summary.
   */
  async check(address: string, quiet: () => void): Promise<void> {
    const ttl = await this.limitedFor(address);
    if (ttl === null) return;
    if (!this.note(address)) quiet();
    const retryAfter = Math.max(1, Math.ceil(ttl / 1000));
    throw new ApiError(
      429,
      'too_many_failed_authentications',
      `Too many failed authentications from this address; retry in ${retryAfter} s`,
      { retry_after_seconds: retryAfter },
      { 'retry-after': String(retryAfter) },
    );
  }

  /** Counts one failed authentication from `address`; `quiet` as for check(). */
  async recordFailure(address: string, quiet: () => void): Promise<void> {
    if (!this.note(address)) quiet();
    const key = this.key(address);
    const replies = await this.withinBudget(() =>
      this.redis.multi().incr(key).pexpire(key, this.config.authFailures.windowMs, 'NX').exec(),
    );
    const count = Number(replies?.[0]?.[1]);
    // Crossing the limit is news for every instance's cache of this address.
    if (count === this.config.authFailures.limit) {
      await this.caches.invalidate(CACHE_TOPIC, cacheKey(address));
    }
  }

  /**
   * Milliseconds until `address` may try again, or null when it is not limited. Answered from the
   * cache, which forgets an address as soon as any instance sees it cross the limit.
   */
  private async limitedFor(address: string): Promise<number | null> {
    const key = cacheKey(address);
    try {
      let until = await this.limited.get(key, () => this.lookUp(address));
      if (until !== null && until <= Date.now()) {
        this.limited.invalidate(key);
        until = await this.limited.get(key, () => this.lookUp(address));
      }
      return until === null ? null : Math.max(0, until - Date.now());
    } catch {
      // Redis slow or away: not limited, and nothing cached, so the next request asks again.
      return null;
    }
  }

  /** When the address's limit ends, from its count in Redis; null when under the limit. */
  private async lookUp(address: string): Promise<number | null> {
    const key = this.key(address);
    const ttl = await this.withinBudget(async () => {
      const count = Number(await this.redis.get(key));
      return count >= this.config.authFailures.limit ? await this.redis.pttl(key) : null;
    });
    if (ttl === undefined) throw new Error('Redis did not answer within the budget');
    return ttl !== null && ttl > 0 ? Date.now() + ttl : null;
  }

  /** True for the first failure of a window, which is logged as it is. */
  private note(address: string): boolean {
    if (!this.window) {
      const timer = setTimeout(() => this.report(), this.config.authFailures.windowMs);
      timer.unref();
      this.window = { startedAt: Date.now(), timer };
      return true;
    }
    this.quieted++;
    if (this.addresses.size < 10_000) this.addresses.add(address);
    return false;
  }

  private report(): void {
    const window = this.window;
    this.window = undefined;
    if (!window || this.quieted === 0) return;
    this.logger.warn(
      `${this.quieted} more failed authentication(s) from ${this.addresses.size} address(es) in the last ${Math.round((Date.now() - window.startedAt) / 1000)} s, after the one logged at the start (their access lines are left out)`,
    );
    this.quieted = 0;
    this.addresses.clear();
  }
  private key(address: string): string {
    return redisKey(this.config, 'auth-failures', address);
  }

  private async withinBudget<T>(work: () => Promise<T>): Promise<T | undefined> {
    const result = await raceTimeout(
      work().catch(() => undefined),
      REDIS_BUDGET_MS,
    );
    return result === 'timeout' ? undefined : result;
  }
}
