import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Cluster, Redis } from 'ioredis';
import type { RateLimitInfo } from '@app/sms-provider/helpers';
import { BACKOFF_LUA, COMMIT_LUA, RESERVE_LUA, SETTLE_LUA } from './gcra.lua';

/** `send` goes first; a `poll` (status check) only uses budget nobody is queued for. */
export type ThrottleKind = 'send' | 'poll';

export type Reservation = { granted: true; waitMs: number } | { granted: false; retryInMs: number };

export type ThrottleStats = {
  /** Slots handed out by acquire() / tryAcquire(): each one may make a provider call. */
  acquired: number;
  /** Reservations refused (send backlog beyond the horizon, or a poll while sends queue). */
  refused: number;
  /** Calls held back by the log: the call `limit` places earlier was answered late. */
  heldByLog: number;
  /** Slots voided by a backoff while we waited for them. */
  requeuedAfterBackoff: number;
  /**
   * Times this instance withdrew the round-trip credit: a 429, or an X-RateLimit-Remaining lower
   * than the log allows (the assumption behind the credit failed, or another client uses the key).
   */
  marginWidened: number;
};

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
  /**
   * The latest, after it left us, that the provider may count a call. A call is counted at
   * min(its answer, leaving + this). The default is the provider client's timeout and a second:
   * an answer always comes by then, so the limit holds whatever the way to the provider does, at
   * the cost of spacing `limit` + 1 calls by a second plus the provider's response time. A
   * smaller value trades that guarantee for throughput and is only right when the provider is
   * known to count requests that soon.
   */
  countedWithinMs?: number;
  /**
   * The least margin kept below the fastest recent round trip when crediting an answered call
   * with it (see SETTLE_LUA); the spread of the fastest quarter of the round trips when larger.
   */
  rttMarginMs?: number;
  /** How long a 429 or a Remaining lower than the log allows withdraws the round-trip credit. */
  widenForMs?: number;
}

/**
 * One provider call's place in the shared log. Settle it once: `answered()` when the provider
 * answered (any status), `unused()` when no request went out. A call that ended without an answer
 * (timeout, reset) is left unsettled: the provider may still count it, so it keeps its place for
 * `countedWithinMs`. Settling never throws: with Redis unreachable the place is simply kept,
 * which only costs budget.
 */
export interface CallPermit {
  /** `rateLimit`: the answer's X-RateLimit-* headers, when it had them. */
  answered(rateLimit?: RateLimitInfo | null): Promise<void>;
  unused(): Promise<void>;
}

/*
 * Why 0.995: the log, not the factor, holds the limit (a call counts until a second after the
 * provider counted it at the latest). Slots T = 1000 / (limit × factor) ms apart put limit + 1 of
 * them 1000 / factor ms apart, ~1005 ms at 0.995: a call whose round trip is up to ~5 ms longer
 * than the fastest recent one never waits on the log, and 99.5% of the plan is used; the slower
 * part of a round trip is waited for, and the rate becomes limit per (1000 ms + that part). A
 * lower factor only leaves room for more jitter at a lower rate (0.98 left 20 ms, at 98%).
 */
export const DEFAULT_SAFETY_FACTOR = 0.995;
/** ~100 slots at 10/s: enough to keep a few workers' concurrency busy, short enough that a
 * high-priority job fetched later waits at most this long behind reservations already made. */
export const DEFAULT_MAX_RESERVE_MS = 10_000;
export const DEFAULT_PROVIDER_LIMIT_TTL_MS = 3_600_000;
/** The provider client's default timeout (10 s) and a second for its answer to be read. */
export const DEFAULT_COUNTED_WITHIN_MS = 11_000;
/**
 * The least margin below the fastest recent round trip when crediting it (the spread of the
 * fastest quarter of the round trips when that is larger): no call's trip is expected to be
 * shorter than the fastest recent one by more than this...
 */
export const DEFAULT_RTT_MARGIN_MS = 1;
/** ...and when one shows (a 429, a low Remaining), no credit for five minutes. */
export const DEFAULT_WIDEN_FOR_MS = 300_000;
/**
 * Round trips kept per budget, and how many it takes before they earn a credit. The fastest of n
 * overshoots the shortest possible trip by about one gap between neighbouring samples; the margin,
 * the spread of the fastest n / 4, is 15 such gaps from 64 samples (with 16 samples, one gap, the
 * overshoot exceeded the margin about one time in three: a provider second of 11 in the e2e test).
 */
const RTT_SAMPLES = 64;
const RTT_SAMPLES_NEEDED = 64;
/** The provider counts requests per second (provider-api.md, "Rate Limits"). */
const PROVIDER_WINDOW_MS = 1000;
/** How soon a call held behind one still in flight looks again: its answer may come any moment. */
const IN_FLIGHT_RECHECK_MS = 5;

const RESERVE_COMMAND = 'notifyThrottleReserve';
const BACKOFF_COMMAND = 'notifyThrottleBackoff';
const COMMIT_COMMAND = 'notifyThrottleCommit';
const SETTLE_COMMAND = 'notifyThrottleSettle';

type ScriptCall = (...keysThenArgs: (string | number)[]) => Promise<unknown>;

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

function parseCommit(reply: unknown): { status: -1 | 0 | 1; micros: number; logged: number } {
  if (Array.isArray(reply) && reply.length === 3) {
    const [status, micros, logged] = reply as unknown[];
    if (
      (status === -1 || status === 0 || status === 1) &&
      typeof micros === 'number' &&
      typeof logged === 'number'
    ) {
      return { status, micros, logged };
    }
  }
  throw new Error(`Unexpected throttle script reply: ${JSON.stringify(reply)}`);
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
 * A slot is only a time to fire. Right before the call goes out, acquire() records it in a log of
 * recent calls (another Lua script), which refuses while the last second already holds `limit`
 * calls; a call stays in that log until a second after the provider can have counted it: its
 * answer, less the fastest recent round trip (the part of any call's trip the provider cannot have
 * counted it in; see SETTLE_LUA). This is the hard cap, whatever happened to the call between its
 * slot and the provider's clock.
 *
 * A crashed caller leaves an unused slot behind, and at most its calls in flight counting for
 * `countedWithinMs`, never a lock; the keys expire a minute after the last reservation.
 */
export class RedisRateLimiter {
  private readonly stateKey: string;
  private readonly limitKey: string;
  private readonly logKey: string;
  private readonly commitsKey: string;
  private readonly rttKey: string;
  private readonly widenedKey: string;
  /** Makes this process's log members unique next to every other process's. */
  private readonly callerId = randomUUID();
  private calls = 0;
  private readonly limitPerSecond: number;
  private readonly safetyFactor: number;
  private readonly maxReserveMs: number;
  private readonly providerLimitTtlMs: number;
  private readonly countedWithinMs: number;
  private readonly rttMarginMs: number;
  private readonly widenForMs: number;
  private readonly counters: ThrottleStats = {
    acquired: 0,
    refused: 0,
    heldByLog: 0,
    requeuedAfterBackoff: 0,
    marginWidened: 0,
  };
  private readonly reserveScript: ScriptCall;
  private readonly backoffScript: ScriptCall;
  private readonly commitScript: ScriptCall;
  private readonly settleScript: ScriptCall;

  constructor(
    private readonly redis: Redis | Cluster,
    options: RedisRateLimiterOptions,
  ) {
    const {
      keyPrefix,
      limitPerSecond,
      safetyFactor = DEFAULT_SAFETY_FACTOR,
      maxReserveMs = DEFAULT_MAX_RESERVE_MS,
      providerLimitTtlMs = DEFAULT_PROVIDER_LIMIT_TTL_MS,
      countedWithinMs = DEFAULT_COUNTED_WITHIN_MS,
      rttMarginMs = DEFAULT_RTT_MARGIN_MS,
      widenForMs = DEFAULT_WIDEN_FOR_MS,
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
    if (!(Number.isFinite(countedWithinMs) && countedWithinMs > 0)) {
      throw new RangeError(`countedWithinMs must be a positive number, got ${countedWithinMs}`);
    }
    if (!(Number.isFinite(rttMarginMs) && rttMarginMs >= 0)) {
      throw new RangeError(`rttMarginMs must be a finite number >= 0, got ${rttMarginMs}`);
    }
    if (!(Number.isInteger(widenForMs) && widenForMs > 0)) {
      throw new RangeError(`widenForMs must be a positive integer, got ${widenForMs}`);
    }
    this.countedWithinMs = countedWithinMs;
    this.rttMarginMs = rttMarginMs;
    this.widenForMs = widenForMs;
    this.limitPerSecond = limitPerSecond;
    this.safetyFactor = safetyFactor;
    this.maxReserveMs = maxReserveMs;
    this.providerLimitTtlMs = providerLimitTtlMs;
    // The hash tag keeps the keys in one slot, which a script touching several needs on a cluster.
    // A prefix with braces of its own (the service's `{notify}:`) decides instead: the first count.
    this.stateKey = `${keyPrefix}{throttle}:state`;
    this.limitKey = `${keyPrefix}{throttle}:provider-limit`;
    this.logKey = `${keyPrefix}{throttle}:log`;
    this.commitsKey = `${keyPrefix}{throttle}:commits`;
    this.rttKey = `${keyPrefix}{throttle}:rtt`;
    this.widenedKey = `${keyPrefix}{throttle}:widened`;
    // defineCommand sends EVALSHA and falls back to EVAL after a SCRIPT FLUSH or a Redis restart.
    // Redefining on a shared connection is harmless: the same name always carries the same script.
    redis.defineCommand(RESERVE_COMMAND, { numberOfKeys: 2, lua: RESERVE_LUA });
    redis.defineCommand(BACKOFF_COMMAND, { numberOfKeys: 3, lua: BACKOFF_LUA });
    redis.defineCommand(COMMIT_COMMAND, { numberOfKeys: 4, lua: COMMIT_LUA });
    redis.defineCommand(SETTLE_COMMAND, { numberOfKeys: 4, lua: SETTLE_LUA });
    const commands = redis as unknown as Record<string, ScriptCall>;
    this.reserveScript = commands[RESERVE_COMMAND].bind(redis);
    this.backoffScript = commands[BACKOFF_COMMAND].bind(redis);
    this.commitScript = commands[COMMIT_COMMAND].bind(redis);
    this.settleScript = commands[SETTLE_COMMAND].bind(redis);
  }

  /**
   * Takes the next free slot if it is close enough, without waiting for it or recording a call:
   * the schedule alone, for inspection and tests. Provider calls go through `acquire` or
   * `tryAcquire`, which also hold to the log of calls made and to a later `backoff`.
   */
  async reserve(kind: ThrottleKind): Promise<Reservation> {
    const { granted, micros } = await this.reserveRaw(kind);
    return granted
      ? { granted: true, waitMs: micros / 1000 }
      : { granted: false, retryInMs: micros / 1000 };
  }

  /**
   * Resolves when the caller may make one provider call: call it right away, and settle the permit
   * when it is over. Sleeps (never spins)
   * while refused, until its slot, and while the log says the last window is full; queues again
   * when a backoff voided the slot. An abort rejects with the signal's reason; a slot already
   * reserved then goes unused, which only ever costs throughput, never the limit.
   */
  async acquire(kind: ThrottleKind, signal?: AbortSignal): Promise<CallPermit> {
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
      const permit = await this.fire(askedAt, reply, signal);
      if (permit) return permit;
    }
  }

  /**
   * Like `acquire`, but gives up instead of queueing: false when the schedule has no slot for
   * `kind` now (for a poll: a send is waiting) or a backoff voided the one it had: null then.
   */
  async tryAcquire(kind: ThrottleKind, signal?: AbortSignal): Promise<CallPermit | null> {
    if (signal?.aborted) throw abortReason(signal);
    const askedAt = performance.now();
    const reply = await this.reserveRaw(kind);
    if (!reply.granted) {
      this.counters.refused += 1;
      return null;
    }
    return this.fire(askedAt, reply, signal);
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
   * made by `acquire` that have not fired yet are voided and queue again after it. The round-trip
   * credit is withdrawn for `widenForMs` as well: more got through than the provider takes.
   */
  async backoff(ms: number): Promise<void> {
    if (!(Number.isFinite(ms) && ms > 0)) return;
    this.counters.marginWidened += 1;
    await this.backoffScript(
      this.stateKey,
      this.limitKey,
      this.widenedKey,
      this.limitPerSecond,
      this.safetyFactor,
      Math.ceil(ms * 1000),
      this.widenForMs,
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

  /**
   * Waits for a granted slot, then records the call in the log. Null when a backoff voided the
   * slot while we waited: the provider told us to stop, and the slot may lie inside the block.
   */
  private async fire(
    askedAt: number,
    slot: { micros: number; gen: string },
    signal?: AbortSignal,
  ): Promise<CallPermit | null> {
    // The slot's time counts from when we asked, not from when the answer was read: Redis read
    // its clock no earlier than that.
    await this.sleepUntil(askedAt + slot.micros / 1000, signal);
    this.calls += 1;
    const member = `${this.callerId}:${this.calls}`;
    let held = false;
    for (;;) {
      if (signal?.aborted) throw abortReason(signal);
      const { status, micros, logged } = parseCommit(
        await this.commitScript(
          this.stateKey,
          this.limitKey,
          this.logKey,
          this.commitsKey,
          this.limitPerSecond,
          this.safetyFactor,
          slot.gen,
          member,
          Math.round(this.countedWithinMs * 1000),
          IN_FLIGHT_RECHECK_MS * 1000,
          PROVIDER_WINDOW_MS * 1000,
        ),
      );
      if (status === 1) {
        this.counters.acquired += 1;
        return this.permit(member, logged);
      }
      if (status === -1) {
        this.counters.requeuedAfterBackoff += 1;
        return null;
      }
      if (!held) this.counters.heldByLog += 1;
      held = true;
      // Rounded up: a timer may fire up to a millisecond early (see sleepUntil).
      await sleep(Math.ceil(micros / 1000) + 1, signal);
    }
  }

  /** `logged`: calls in the log when this one was committed, for the check of Remaining. */
  private permit(member: string, logged: number): CallPermit {
    let settled = false;
    const settle = async (how: 'answered' | 'unused', rateLimit?: RateLimitInfo | null) => {
      if (settled) return;
      settled = true;
      try {
        const withdrew = await this.settleScript(
          this.logKey,
          this.commitsKey,
          this.rttKey,
          this.widenedKey,
          member,
          how,
          Math.round(this.rttMarginMs * 1000),
          RTT_SAMPLES,
          RTT_SAMPLES_NEEDED,
          rateLimit?.limit ?? -1,
          rateLimit?.remaining ?? -1,
          logged,
          this.widenForMs,
        );
        if (withdrew === 1) this.counters.marginWidened += 1;
      } catch {
        // The call keeps its place until countedWithinMs: budget lost, never the limit.
      }
    };
    return {
      answered: (rateLimit) => settle('answered', rateLimit),
      unused: () => settle('unused'),
    };
  }

  private async sleepUntil(deadline: number, signal?: AbortSignal): Promise<void> {
    // Timers may fire a little early (they count from the loop's cached clock): check and top up.
    for (let left = deadline - performance.now(); left > 0; left = deadline - performance.now()) {
      await sleep(Math.ceil(left), signal);
    }
  }
}
