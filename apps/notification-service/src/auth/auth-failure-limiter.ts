import { isIPv6 } from 'node:net';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { CacheInvalidation } from '../cache/cache-invalidation.service';
import type { InvalidatedCache, RowCaches } from '../cache/invalidated-cache';
import { ApiError } from '../common/errors/api-error';
import { raceTimeout } from '../common/race-timeout';
import { AppConfig } from '../config/app-config';
import type { RedisClient } from '../redis/redis-connection';
import { REDIS, redisKey } from '../redis/redis.module';

const CACHE_TOPIC = 'auth-failures';

/** How long a Redis call may take before the limiter lets the request through. */
const REDIS_BUDGET_MS = 100;

/** What failures are counted by: where they come from, and which key they present. */
export const BLOCK_KINDS = ['address', 'key_prefix'] as const;
export type BlockKind = (typeof BLOCK_KINDS)[number];

/** How many blocks a listing answers at most (the oldest to end first). */
export const MAX_LISTED_BLOCKS = 1000;

export interface FailureSubjects {
  /** The client address; an IPv6 address counts as its /64 (one host usually owns a /64). */
  address: string;
  /** The first characters of the key presented, when it has the shape of one of our keys. */
  keyPrefix: string | null;
}

export interface AuthBlock {
  kind: BlockKind;
  value: string;
  failures: number;
  blocked_until: string;
}

/** The cache key of a subject: the newline ends the kind, so one value is never another's. */
function cacheKey(kind: BlockKind, value: string): string {
  return `${kind}\n${value}\n`;
}

/** The counting unit of an address: IPv4 as it is, IPv6 by its /64. */
export function addressUnit(address: string): string {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (!isIPv6(v4)) return v4;
  const [head, tail = ''] = v4.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = v4.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((group) => Number.parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}

/**
 * Failed authentications limited per client address and per presented key prefix, counted in
 * Redis so that every instance shares the count. Only failures are limited: a request with a
 * valid key is never asked about (the guard authenticates first), so a stale key on a shared
 * address (a sidecar, a NAT, a load balancer) cannot lock out the callers whose keys work. After
 * `limit` failures in a window, the next failures of that address or key prefix get 429 with
 * Retry-After instead of 401 until the window ends.
 *
 * Blocks are listed in a sorted set (member kind+value, score the end) so that an operator can see
 * them (GET /v1/auth/blocks) and clear one (DELETE), on every instance at once.
 *
 * Logged once per window, not once per request: the first failure of a window keeps its access
 * line; the others are counted and reported in one summary line when the window ends.
 *
 * Each instance keeps what it learnt of a subject in memory, so a failure costs no Redis read;
 * the instance whose failure takes a subject over the limit (or that clears a block) tells the
 * others. Redis trouble never blocks a request: a call slower than `REDIS_BUDGET_MS` or failing
 * counts as "not limited" (authentication itself still holds).
 */
@Injectable()
export class AuthFailureLimiter implements OnModuleDestroy {
  private readonly logger = new Logger('Auth');
  /** Failures and refusals after the first of the current window, and their addresses. */
  private quieted = 0;
  private readonly addresses = new Set<string>();
  private window: { startedAt: number; timer: NodeJS.Timeout } | undefined;
  /** When each subject's block ends (null: not blocked), so that a request costs no Redis call. */
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
   * Counts one failed authentication, and throws 429 `too_many_failed_authentications` instead of
   * letting the caller answer 401 when its address or key prefix is already over the limit
   * (then nothing more is counted: a blocked client's failures do not extend its block). `quiet`
   * is called when the request falls into the current window's summary.
   */
  async fail(subjects: FailureSubjects, quiet: () => void): Promise<void> {
    if (!this.note(subjects.address)) quiet();
    const units = this.units(subjects);
    const ends = await Promise.all(units.map(([kind, value]) => this.blockedUntil(kind, value)));
    const until = Math.max(...ends.map((end) => end ?? 0));
    if (until > Date.now()) {
      const retryAfter = Math.max(1, Math.ceil((until - Date.now()) / 1000));
      throw new ApiError(
        429,
        'too_many_failed_authentications',
        `Too many failed authentications from this address or with this key; retry in ${retryAfter} s (a valid key is never refused)`,
        { retry_after_seconds: retryAfter },
        { 'retry-after': String(retryAfter), connection: 'close' },
      );
    }
    await Promise.all(units.map(([kind, value]) => this.count(kind, value)));
  }

  /** The blocks in force, soonest to end first, at most MAX_LISTED_BLOCKS. */
  async blocks(): Promise<AuthBlock[]> {
    const set = this.blocksKey();
    const now = Date.now();
    await this.redis.zremrangebyscore(set, '-inf', now);
    const flat = await this.redis.zrangebyscore(
      set,
      now,
      '+inf',
      'WITHSCORES',
      'LIMIT',
      0,
      MAX_LISTED_BLOCKS,
    );
    const entries: { kind: BlockKind; value: string; until: number }[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const [kind, value] = flat[i].split('\n') as [BlockKind, string];
      entries.push({ kind, value, until: Number(flat[i + 1]) });
    }
    const counts =
      entries.length === 0
        ? []
        : await this.redis.mget(entries.map((e) => this.key(e.kind, e.value)));
    return entries.map((entry, i) => ({
      kind: entry.kind,
      value: entry.value,
      failures: Number(counts[i] ?? 0),
      blocked_until: new Date(entry.until).toISOString(),
    }));
  }

  /** Ends a block (and its count) on every instance; false when there was none. */
  async clear(kind: BlockKind, value: string): Promise<boolean> {
    const unit = kind === 'address' ? addressUnit(value) : value;
    const replies = await this.redis
      .multi()
      .del(this.key(kind, unit))
      .zrem(this.blocksKey(), `${kind}\n${unit}`)
      .exec();
    await this.caches.invalidate(CACHE_TOPIC, cacheKey(kind, unit));
    this.logger.warn(`Block on ${kind} ${unit} cleared by an operator`);
    return Number(replies?.[1]?.[1]) > 0;
  }

  private units(subjects: FailureSubjects): [BlockKind, string][] {
    const units: [BlockKind, string][] = [['address', addressUnit(subjects.address)]];
    if (subjects.keyPrefix !== null) units.push(['key_prefix', subjects.keyPrefix]);
    return units;
  }

  private async count(kind: BlockKind, value: string): Promise<void> {
    const key = this.key(kind, value);
    const replies = await this.withinBudget(() =>
      this.redis
        .multi()
        .incr(key)
        .pexpire(key, this.config.authFailures.windowMs, 'NX')
        .pttl(key)
        .exec(),
    );
    const count = Number(replies?.[0]?.[1]);
    // Crossing the limit is news for every instance's cache of this subject, and for the list.
    if (count === this.config.authFailures.limit) {
      const ttl = Number(replies?.[2]?.[1]);
      const until = Date.now() + (ttl > 0 ? ttl : this.config.authFailures.windowMs);
      await this.withinBudget(async () => {
        await this.redis.zadd(this.blocksKey(), until, `${kind}\n${value}`);
        await this.caches.invalidate(CACHE_TOPIC, cacheKey(kind, value));
      });
      this.logger.warn(
        `Failed authentications blocked: ${kind} ${value} for ${Math.round((until - Date.now()) / 1000)} s`,
      );
    }
  }

  /**
   * When the subject's block ends, or null when it is not blocked. Answered from the cache, which
   * forgets a subject as soon as any instance sees it cross the limit or clears it.
   */
  private async blockedUntil(kind: BlockKind, value: string): Promise<number | null> {
    const key = cacheKey(kind, value);
    try {
      let until = await this.limited.get(key, () => this.lookUp(kind, value));
      if (until !== null && until <= Date.now()) {
        this.limited.invalidate(key);
        until = await this.limited.get(key, () => this.lookUp(kind, value));
      }
      return until;
    } catch {
      // Redis slow or away: not limited, and nothing cached, so the next request asks again.
      return null;
    }
  }

  /** When the subject's block ends, from its count in Redis; null when under the limit. */
  private async lookUp(kind: BlockKind, value: string): Promise<number | null> {
    const key = this.key(kind, value);
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

  private key(kind: BlockKind, value: string): string {
    return redisKey(this.config, 'auth-failures', kind, value);
  }

  private blocksKey(): string {
    return redisKey(this.config, 'auth-blocks');
  }

  private async withinBudget<T>(work: () => Promise<T>): Promise<T | undefined> {
    const result = await raceTimeout(
      work().catch(() => undefined),
      REDIS_BUDGET_MS,
    );
    return result === 'timeout' ? undefined : result;
  }
}
