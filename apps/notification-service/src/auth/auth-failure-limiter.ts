import { Inject, Injectable, Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { ApiError } from '../common/errors/api-error';
import { raceTimeout } from '../common/race-timeout';
import { AppConfig } from '../config/app-config';
import { REDIS, redisKey } from '../redis/redis.module';

/** How long a Redis call may take before the limiter lets the request through. */
const REDIS_BUDGET_MS = 100;

/**
 * Failed authentication limited per client address, counted in Redis so that every instance
 * behind the load balancer shares the count: after `limit` failures in a window, that address
 * gets 429 with Retry-After until the window ends, valid key or not. Failures are logged once
 * per window as a summary, not once per request.
 *
 * Redis trouble never blocks a request: a call slower than `REDIS_BUDGET_MS` or failing counts
 * as "not limited" (authentication itself still holds).
 */
@Injectable()
export class AuthFailureLimiter {
  private readonly logger = new Logger('Auth');
  private failures = 0;
  private readonly addresses = new Set<string>();
  private lastReport = Date.now();

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: AppConfig,
  ) {}

  /** Throws 429 `too_many_failed_authentications` when `address` is over the limit. */
  async check(address: string): Promise<void> {
    const { limit } = this.config.authFailures;
    const ttl = await this.withinBudget(async () => {
      const count = Number(await this.redis.get(this.key(address)));
      return count >= limit ? await this.redis.pttl(this.key(address)) : null;
    });
    if (ttl === null || ttl === undefined) return;
    const retryAfter = Math.max(1, Math.ceil(ttl / 1000));
    throw new ApiError(
      429,
      'too_many_failed_authentications',
      `Too many failed authentications from this address; retry in ${retryAfter} s`,
      { retry_after_seconds: retryAfter },
      { 'retry-after': String(retryAfter) },
    );
  }

  /** Counts one failed authentication from `address`. */
  async recordFailure(address: string): Promise<void> {
    this.failures++;
    if (this.addresses.size < 10_000) this.addresses.add(address);
    this.report();
    const key = this.key(address);
    await this.withinBudget(() =>
      this.redis.multi().incr(key).pexpire(key, this.config.authFailures.windowMs, 'NX').exec(),
    );
  }

  private report(): void {
    const now = Date.now();
    if (now - this.lastReport < this.config.authFailures.windowMs) return;
    this.logger.warn(
      `${this.failures} failed authentication(s) from ${this.addresses.size} address(es) in the last ${Math.round((now - this.lastReport) / 1000)} s`,
    );
    this.failures = 0;
    this.addresses.clear();
    this.lastReport = now;
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
