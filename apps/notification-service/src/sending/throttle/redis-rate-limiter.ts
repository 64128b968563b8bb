import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { BACKOFF_LUA, RESERVE_LUA } from './gcra.lua';

/** `send` goes first; a `poll` (status check) only uses budget nobody is queued for. */
export type ThrottleKind = 'send' | 'poll';

export type Reservation = { granted: true; waitMs: number } | { granted: false; retryInMs: number };

export interface ThrottleStats {
  /** acquire() calls that returned: each one may make a provider call. */
  acquired: number;
  /** Reservations refused (send backlog beyond the horizon, or a poll while sends queue). */
  refused: number;
  /** Slots given up because the timer woke us too late to fire safely. */
  requeuedLate: number;
  /** Slots voided by a backoff while we waited for them. */
  requeuedAfterBackoff: number;
}

export interface RedisRateLimiterOptions {
  /** Used verbatim in front of the limiter's keys, e.g. `notify:`; one budget per prefix. */
  keyPrefix: string;
  /** The plan's limit per API key (standard 10, enterprise 50). */
  limitPerSecond: number;
  /** Fraction of the limit actually scheduled; see DEFAULT_SAFETY_FACTOR. */
  safetyFactor?: number;
  /** How far ahead a send may reserve its slot; beyond it the caller is told to come back. */
  maxReserveMs?: number;
  /** How long a lower X-RateLimit-Limit from the provider stays in force unless seen again. */
  providerLimitTtlMs?: number;
}

/*
 * Why 0.98: slots are exactly T = 1000 / (limit × factor) ms apart, so limit + 1 consecutive slots
 * span limit × T = 1000 / factor ms. At 0.98 that is ~1020.4 ms whatever the limit: limit + 1
 * requests only land in one provider second if their arrival is squeezed by more than ~20 ms
 * (2% of an interval, ten intervals in a row at 10/s) by event-loop lag, GC pauses, or differing
 * Redis and provider round trips. The schedule itself never puts more than `limit` slots in any
 * sliding second (limit × T > 1000 ms); the factor is the margin for what happens after it, and it
 * costs 2% of the budget. acquire() spends at most half of it on its own timer waking late and
 * leaves the rest for the way to the provider.
 */
export const DEFAULT_SAFETY_FACTOR = 0.98;
/** ~100 slots at 10/s: enough to keep a few workers' concurrency busy, short enough that a
 * high-priority job fetched later waits at most this long behind reservations already made. */
export const DEFAULT_MAX_RESERVE_MS = 10_000;
export const DEFAULT_PROVIDER_LIMIT_TTL_MS = 3_600_000;

const RESERVE_COMMAND = 'notifyThrottleReserve';
const BACKOFF_COMMAND = 'notifyThrottleBackoff';

type ScriptCall = (
  stateKey: string,
  limitKey: string,
  ...args: (string | number)[]
) => Promise<unknown>;

/** Gap between two slots at `limitPerSecond` scaled by `safetyFactor`. */
export function emissionIntervalMs(limitPerSecond: number, safetyFactor: number): number {
  return 1000 / (limitPerSecond * safetyFactor);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortReason(signal?: AbortSignal): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error('aborted', { cause: reason });
}

function parseReply(reply: unknown): { granted: boolean; micros: number; gen: string } {
  if (!Array.isArray(reply) || reply.length !== 3) {
    throw new Error(`Unexpected throttle script reply: ${JSON.stringify(reply)}`);
  }
  const [granted, micros, gen] = reply as unknown[];
  if (typeof granted !== 'number' || typeof micros !== 'number' || typeof gen !== 'string') {
    throw new Error(`Unexpected throttle script reply: ${JSON.stringify(reply)}`);
  }
  return { granted: granted === 1, micros, gen };
}

/**
 * One request budget shared through Redis by every process that uses the same key prefix.
 *
 * GCRA in reservation style: the state is a single theoretical arrival time (TAT); a reservation
 * takes the slot at max(TAT, now) and moves the TAT one emission interval on, atomically in Lua
 * on Redis' own clock. Slots are therefore evenly spaced, never bursty, so no sliding one-second
 * window holds more than the limit, whatever the provider's window alignment. There is no burst
 * allowance on purpose: after an idle spell the provider's window may still hold our last second.
 *
 * Nothing is held per caller: a crashed or aborted caller leaves an unused slot behind, never a
 * lock, and the keys expire a minute after the last reservation.
 */
export class RedisRateLimiter {
  private readonly stateKey: string;
  private readonly limitKey: string;
  private readonly limitPerSecond: number;
  private readonly safetyFactor: number;
  private readonly maxReserveMs: number;
  private readonly providerLimitTtlMs: number;
  private readonly lateToleranceMs: number;
  private readonly counters: ThrottleStats = {
    acquired: 0,
    refused: 0,
    requeuedLate: 0,
    requeuedAfterBackoff: 0,
  };
  private readonly reserveScript: ScriptCall;
  private readonly backoffScript: ScriptCall;

  constructor(
    private readonly redis: Redis,
    options: RedisRateLimiterOptions,
  ) {
    const {
      keyPrefix,
      limitPerSecond,
      safetyFactor = DEFAULT_SAFETY_FACTOR,
      maxReserveMs = DEFAULT_MAX_RESERVE_MS,
      providerLimitTtlMs = DEFAULT_PROVIDER_LIMIT_TTL_MS,
    } = options;
    if (!(Number.isFinite(limitPerSecond) && limitPerSecond > 0)) {
      throw new RangeError(`limitPerSecond must be a positive number, got ${limitPerSecond}`);
    }
    if (!(safetyFactor > 0 && safetyFactor <= 1)) {
      throw new RangeError(`safetyFactor must be in (0, 1], got ${safetyFactor}`);
    }
    if (!(Number.isFinite(maxReserveMs) && maxReserveMs >= 0)) {
      throw new RangeError(`maxReserveMs must be a finite number >= 0, got ${maxReserveMs}`);
    }
    if (!(Number.isInteger(providerLimitTtlMs) && providerLimitTtlMs > 0)) {
      throw new RangeError(
        `providerLimitTtlMs must be a positive integer, got ${providerLimitTtlMs}`,
      );
    }
    this.limitPerSecond = limitPerSecond;
    this.safetyFactor = safetyFactor;
    this.maxReserveMs = maxReserveMs;
    this.providerLimitTtlMs = providerLimitTtlMs;
    // Half the margin the safety factor buys (~10 ms at 0.98, at any limit). The floor keeps a
    // factor of 1 from turning every ordinary millisecond of timer lateness into a requeue.
    this.lateToleranceMs = Math.max((1000 / safetyFactor - 1000) / 2, 5);
    // The hash tag keeps both keys in one slot, which a script touching both needs on a cluster.
    this.stateKey = `${keyPrefix}{throttle}:state`;
    this.limitKey = `${keyPrefix}{throttle}:provider-limit`;
    // defineCommand sends EVALSHA and falls back to EVAL after a SCRIPT FLUSH or a Redis restart.
    // Redefining on a shared connection is harmless: the same name always carries the same script.
    redis.defineCommand(RESERVE_COMMAND, { numberOfKeys: 2, lua: RESERVE_LUA });
    redis.defineCommand(BACKOFF_COMMAND, { numberOfKeys: 2, lua: BACKOFF_LUA });
    const commands = redis as unknown as Record<string, ScriptCall>;
    this.reserveScript = commands[RESERVE_COMMAND].bind(redis);
    this.backoffScript = commands[BACKOFF_COMMAND].bind(redis);
  }

  /**
   * Takes the next free slot if it is close enough, without waiting for it. The caller must not
   * call the provider before `waitMs` has passed. Unlike `acquire`, a reservation taken here is
   * not re-checked against a later `backoff`.
   */
  async reserve(kind: ThrottleKind): Promise<Reservation> {
    const { granted, micros } = await this.reserveRaw(kind);
    return granted
      ? { granted: true, waitMs: micros / 1000 }
      : { granted: false, retryInMs: micros / 1000 };
  }

  /**
   * Resolves when the caller may make one provider call: call it right away. Sleeps (never spins)
   * while refused or until its slot, then checks that it woke on time and that no backoff voided
   * the slot; otherwise it queues again. An abort rejects with the signal's reason; a slot already
   * reserved then goes unused, which only ever costs throughput, never the limit.
   */
  async acquire(kind: ThrottleKind, signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (signal?.aborted) throw abortReason(signal);
      const askedAt = performance.now();
      const reply = await this.reserveRaw(kind);
      if (!reply.granted) {
        this.counters.refused += 1;
        // Refused callers would otherwise all come back in the same millisecond and race for the
        // one slot that freed up; spreading them costs them at most half an interval.
        const jitter =
          Math.random() * 0.5 * emissionIntervalMs(this.limitPerSecond, this.safetyFactor);
        await sleep(reply.micros / 1000 + jitter, signal);
        continue;
      }
      // The slot's time counts from when we asked, not from when the answer was read: Redis read
      // its clock no earlier than that, and an answer that sat in the socket while the event loop
      // was busy must not shift our slot later unnoticed.
      const deadline = askedAt + reply.micros / 1000;
      if (reply.micros === 0) {
        if (performance.now() - deadline > this.lateToleranceMs) {
          this.counters.requeuedLate += 1;
          continue;
        }
        this.counters.acquired += 1;
        return;
      }
      await this.sleepUntil(deadline, signal);
      // A backoff while we slept voids our slot: the provider has told us to stop, and our slot
      // may lie inside the blocked time. Queue again behind the block.
      const gen = (await this.redis.hget(this.stateKey, 'gen')) ?? '0';
      if (gen !== reply.gen) {
        this.counters.requeuedAfterBackoff += 1;
        continue;
      }
      // Getting here late (a timer firing late, a busy event loop, a slow check) squeezes our
      // request towards the next slot and eats the safety margin; past half of it, give the slot
      // up and queue again rather than fire. A lost slot only costs throughput; the other half of
      // the margin is for the way to the provider.
      if (performance.now() - deadline > this.lateToleranceMs) {
        this.counters.requeuedLate += 1;
        continue;
      }
      this.counters.acquired += 1;
      return;
    }
  }

  /** What this instance's acquire() calls went through, for metrics; counts only ever grow. */
  stats(): ThrottleStats {
    return { ...this.counters };
  }

  /**
   * Applies the provider's X-RateLimit-Limit. A value below the plan's limit is shared with every
   * instance and kept for `providerLimitTtlMs`, refreshed each time it is seen; a value at or above
   * the plan's limit clears it, since the configured plan rate is the ceiling either way.
   */
  async setLimitFromProvider(limit: number): Promise<void> {
    if (!(Number.isFinite(limit) && limit > 0)) return;
    if (limit < this.limitPerSecond) {
      await this.redis.set(this.limitKey, String(limit), 'PX', this.providerLimitTtlMs);
    } else {
      await this.redis.del(this.limitKey);
    }
  }

  /**
   * After a 429: no slot is handed out before `ms` from now, for any instance, and reservations
   * made by `acquire` that have not fired yet are voided and queue again after it.
   */
  async backoff(ms: number): Promise<void> {
    if (!(Number.isFinite(ms) && ms > 0)) return;
    await this.backoffScript(
      this.stateKey,
      this.limitKey,
      this.limitPerSecond,
      this.safetyFactor,
      Math.ceil(ms * 1000),
    );
  }

  /**
   * The limit per second in force: the plan's, or a lower one the provider reported. Slots are
   * spaced for this limit times the safety factor.
   */
  async effectiveLimit(): Promise<number> {
    const reported = Number(await this.redis.get(this.limitKey));
    return reported > 0 && reported < this.limitPerSecond ? reported : this.limitPerSecond;
  }

  private async reserveRaw(
    kind: ThrottleKind,
  ): Promise<{ granted: boolean; micros: number; gen: string }> {
    return parseReply(
      await this.reserveScript(
        this.stateKey,
        this.limitKey,
        this.limitPerSecond,
        this.safetyFactor,
        Math.floor(this.maxReserveMs * 1000),
        kind,
      ),
    );
  }

  private async sleepUntil(deadline: number, signal?: AbortSignal): Promise<void> {
    // Timers may fire a little early (they count from the loop's cached clock): check and top up.
    for (let left = deadline - performance.now(); left > 0; left = deadline - performance.now()) {
      await sleep(Math.ceil(left), signal);
    }
  }
}
