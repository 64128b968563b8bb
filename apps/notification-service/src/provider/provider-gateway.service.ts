import { setMaxListeners } from 'node:events';
import { HttpService } from '@nestjs/axios';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import {
  type ProviderAccount,
  type ProviderMessage,
  type ProviderResult,
  type RegisterWebhookRequest,
  type RegisterWebhookResponse,
  type SendMessageRequest,
  type SendMessageResponse,
  SmsProviderClient,
  SmsProviderError,
} from '@app/sms-provider';
import type { MessageCategory } from '../common/message-category';
import { AppConfig } from '../config/app-config';
import { DEFAULT_ACCOUNT, type ProviderAccountSettings } from '../config/provider-accounts';
import { MetricsService } from '../metrics/metrics.service';
import type { RedisClient } from '../redis/redis-connection';
import { REDIS, redisKey } from '../redis/redis.module';
import {
  type Admission,
  CircuitBreaker,
  type CircuitSnapshot,
  type OpenReason,
} from './circuit-breaker';
import { type CallCounts, ProviderCallLog } from './provider-call-log';
import { type CallPermit, RedisRateLimiter, type ThrottleKind } from './throttle';

/**
 * A send given up before any request left: no slot could be had (the shared throttle's Redis is
 * unreachable, or the process is shutting down), or the caller's precondition no longer held
 * once it came (its claim may belong to someone else by now). Nothing reached the provider, so
 * the caller may give the message back without counting an attempt.
 */
export class CallAbandonedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'CallAbandonedError';
  }
}

/**
 * No account the message may go through can take a call now: each is open after the provider
 * failed it repeatedly, out of credits, or refusing our key. Nothing was sent; the caller gives
 * the message back without an attempt and tries again in `retryInMs` (when the first of them
 * takes a probe).
 */
export class ProviderUnavailableError extends CallAbandonedError {
  constructor(
    reason: string,
    readonly retryInMs: number,
    /** Each account the message could have gone through, with why it did not. */
    readonly accounts: Readonly<Record<string, OpenReason | 'probing'>>,
  ) {
    super(reason);
    this.name = 'ProviderUnavailableError';
  }
}

/** What routing looks at: an account may be kept for some categories, some teams. */
export interface MessageRoute {
  category: MessageCategory;
  team: string | null;
}

export interface SendOptions {
  /** Checked after the slot is granted, right before the request: false abandons the call. */
  stillValid?: () => boolean;
  route: MessageRoute;
}

/** The provider's answer, and the account that accepted the message. */
export type SendResult = ProviderResult<SendMessageResponse> & { account: string };

/** What an operator sees of one account (GET /v1/queue, the console, metrics). */
export interface AccountState {
  name: string;
  plan: string;
  limitPerSecond: number;
  categories: readonly MessageCategory[] | null;
  teams: readonly string[] | null;
  circuit: CircuitSnapshot;
  /** As of the account's last answer that said. */
  creditsRemaining: number | null;
  creditsAsOf: number | null;
}

/** Whole-provider failures in a row that open an account's circuit. */
export const CIRCUIT_FAILURE_THRESHOLD = 5;
/** An open circuit's first period before a probe; doubled per failed probe. */
export const CIRCUIT_OPEN_MS = 1_000;

/** One account: its client, its share of the rate (its own plan), its circuit. */
class AccountLane {
  credits: number | null = null;
  creditsAt: number | null = null;

  constructor(
    readonly settings: ProviderAccountSettings,
    readonly client: SmsProviderClient,
    readonly limiter: RedisRateLimiter,
    readonly circuit: CircuitBreaker,
    readonly callbackUrl: string,
  ) {}

  get name(): string {
    return this.settings.name;
  }

  matches(route: MessageRoute): boolean {
    const { categories, teams } = this.settings;
    if (categories && !categories.includes(route.category)) return false;
    if (teams && (route.team === null || !teams.includes(route.team))) return false;
    return true;
  }
}

/**
 * Every call this service makes to the provider goes through here. A send goes to the first
 * account (in SMS_PROVIDER_ACCOUNTS order) that matches the message and can take it: it draws
 * from that account's rate budget, feeds the provider's rate-limit headers back into it, and
 * counts the outcome. It moves on to the next matching account only when the provider refused
 * the account itself (no credits, key refused) or the account's circuit is open: never after a
 * call that may have been accepted (a timeout), so no message can go out through two accounts.
 */
@Injectable()
export class ProviderGateway implements OnModuleDestroy {
  private readonly lanes: AccountLane[];
  private readonly shutdown = new AbortController();
  private readonly logger = new Logger(ProviderGateway.name);
  private readonly circuitsKey: string;
  private readonly calls: ProviderCallLog;

  constructor(
    http: HttpService,
    private readonly metrics: MetricsService,
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly config: AppConfig,
  ) {
    // Every waiting send listens to this one signal; dozens at once is expected, not a leak.
    setMaxListeners(0, this.shutdown.signal);
    this.circuitsKey = redisKey(config, 'provider', 'circuits');
    this.calls = new ProviderCallLog(redis, redisKey(config, 'provider', 'calls'));
    this.lanes = config.provider.accounts.map((settings) => this.lane(http, settings));
    metrics.watchThrottle(() => sumStats(this.lanes.map((l) => l.limiter.stats())));
  }

  private lane(http: HttpService, settings: ProviderAccountSettings): AccountLane {
    const client = new SmsProviderClient(http, {
      baseUrl: settings.baseUrl,
      apiKey: settings.apiKey,
      timeoutMs: this.config.provider.timeoutMs,
      // Every request has to pass the throttle, and a retry inside the library would not: a
      // failed poll is simply tried again on the reconciler's next round.
      getRetries: 0,
    });
    const limiter = new RedisRateLimiter(this.redis, {
      // The default account keeps the prefix from before accounts: during a rolling upgrade old
      // and new instances share one budget.
      keyPrefix:
        settings.name === DEFAULT_ACCOUNT
          ? `${redisKey(this.config, 'provider')}:`
          : `${redisKey(this.config, 'provider', 'account', settings.name)}:`,
      limitPerSecond: this.config.rateLimitOf(settings),
      safetyFactor: this.config.sending.throttleSafetyFactor,
      countedWithinMs: this.config.sending.throttleCountedWithinMs,
    });
    const circuit = new CircuitBreaker(
      {
        failureThreshold: CIRCUIT_FAILURE_THRESHOLD,
        openMs: CIRCUIT_OPEN_MS,
        maxOpenMs: this.config.provider.circuitMaxOpenMs,
      },
      (snapshot) => this.circuitChanged(settings.name, snapshot),
    );
    this.metrics.circuitState.set({ account: settings.name }, 0);
    return new AccountLane(
      settings,
      client,
      limiter,
      circuit,
      this.config.callbackUrl(settings.name),
    );
  }

  onModuleDestroy(): void {
    this.shutdown.abort(new Error('shutting down'));
    for (const lane of this.lanes) lane.client.onModuleDestroy();
  }

  /** The account a message of `route` would go to now; null when none can take it. */
  accountFor(route: MessageRoute): string | null {
    const lane = this.lanesFor(route).find((l) => l.circuit.availableInMs() === 0);
    return lane?.name ?? null;
  }

  /** The names of every configured account, in routing order. */
  accountNames(): string[] {
    return this.lanes.map((l) => l.name);
  }

  /**
   * Sends through the first matching account that can take it: waits for that account's slot
   * (sends outrank polls), then sends at once. The request's callback URL is the account's.
   */
  async send(request: SendMessageRequest, options: SendOptions): Promise<SendResult> {
    const candidates = this.lanesFor(options.route);
    const why: Record<string, OpenReason | 'probing'> = {};
    let refusal: SmsProviderError | null = null;
    for (const lane of candidates) {
      const admission = lane.circuit.admit();
      if (!admission) {
        why[lane.name] = lane.circuit.snapshot().reason ?? 'probing';
        continue;
      }
      try {
        const result = await this.sendVia(lane, admission, request, options);
        return { ...result, account: lane.name };
      } catch (error) {
        // Too many numbers for the account's credits at once: the caller splits the request,
        // so that this account's credits are used up before the next account takes over.
        if (
          error instanceof SmsProviderError &&
          error.code === 'insufficient_credits' &&
          recipientsOf(request) > 1
        ) {
          throw error;
        }
        // The provider refused the account, so it sent nothing: the next account may take it.
        if (error instanceof SmsProviderError && refusesAccount(error)) {
          refusal = error;
          why[lane.name] = error.code as OpenReason;
          continue;
        }
        throw error;
      }
    }
    // Every account out of credits: the one case the whole of sending pauses for (the caller's
    // policy), as it did with one account; an operator tops up, the credits check resumes.
    if (refusal?.code === 'insufficient_credits' && this.everyAccountOutOfCredits()) throw refusal;
    const retryInMs = Math.max(
      MIN_RETRY_MS,
      Math.min(...candidates.map((l) => l.circuit.availableInMs())),
    );
    const summary = Object.entries(why)
      .map(([name, reason]) => `${name}: ${reason}`)
      .join(', ');
    throw new ProviderUnavailableError(
      `no provider account can take the message now (${summary})`,
      retryInMs,
      why,
    );
  }

  private async sendVia(
    lane: AccountLane,
    admission: Admission,
    request: SendMessageRequest,
    options: SendOptions,
  ): Promise<ProviderResult<SendMessageResponse>> {
    const waited = this.metrics.throttleWait.startTimer();
    let permit: CallPermit;
    try {
      permit = await lane.limiter.acquire('send', this.shutdown.signal);
    } catch (error) {
      lane.circuit.withdrawn(admission);
      // Redis unreachable, or shutting down: no slot, so nothing was sent.
      throw new CallAbandonedError(`no send slot: ${errorMessage(error)}`);
    } finally {
      waited();
    }
    if (options.stillValid && !options.stillValid()) {
      void permit.unused();
      lane.circuit.withdrawn(admission);
      throw new CallAbandonedError('the worker lease lapsed while waiting for a send slot');
    }
    try {
      const result = await this.observe(lane, 'send', permit, () =>
        lane.client.sendMessage({ ...request, callbackUrl: lane.callbackUrl }),
      );
      lane.circuit.answered(admission);
      this.noteCredits(lane, result.data.credits_remaining);
      return result;
    } catch (error) {
      if (!(error instanceof SmsProviderError)) {
        lane.circuit.withdrawn(admission);
        throw error;
      }
      this.judge(lane, admission, error, recipientsOf(request));
      throw error.withAccount(lane.name);
    }
  }

  /** What one provider error says about the account (not about the message). */
  private judge(
    lane: AccountLane,
    admission: Admission,
    error: SmsProviderError,
    recipients: number,
  ): void {
    if (error.code === 'insufficient_credits' && recipients > 1) {
      // The account could not pay for this many at once; it may still have credits for fewer.
      lane.circuit.answered(admission);
    } else if (failsWholeProvider(error)) {
      lane.circuit.failed(admission, error.code);
    } else if (refusesAccount(error)) {
      // Retried after the credits check's interval: an operator's top-up or new key takes effect
      // by then (and the credits check closes it sooner when it sees credits).
      lane.circuit.refused(
        admission,
        error.code as OpenReason,
        this.config.schedule.creditsCheckIntervalMs,
      );
      if (error.code === 'insufficient_credits') this.noteCredits(lane, 0);
    } else {
      // 429, a refused number, a too-long text: the provider is up and answering.
      lane.circuit.answered(admission);
    }
  }

  /** Null when there is no spare budget right now (sends are waiting): try later. */
  async pollMessage(
    providerMessageId: string,
    account: string | null = null,
  ): Promise<ProviderResult<ProviderMessage> | null> {
    const lane = this.laneNamed(account);
    const permit = await lane.limiter.tryAcquire('poll', this.shutdown.signal);
    if (!permit) return null;
    return this.observe(lane, 'get_message', permit, () =>
      lane.client.getMessage(providerMessageId),
    );
  }

  /**
   * One account's credits and plan (the first account's without a name). `wait`: an operator
   * asked, so queue for a slot like a send; otherwise only spare budget.
   */
  account(wait: true, name?: string | null): Promise<ProviderResult<ProviderAccount>>;
  account(wait?: false, name?: string | null): Promise<ProviderResult<ProviderAccount> | null>;
  async account(
    wait = false,
    name: string | null = null,
  ): Promise<ProviderResult<ProviderAccount> | null> {
    const lane = this.laneNamed(name);
    const permit = wait
      ? await lane.limiter.acquire('send', this.shutdown.signal)
      : await this.takeSpareSlot(lane, 'poll');
    if (!permit) return null;
    const result = await this.observe(lane, 'get_account', permit, () => lane.client.getAccount());
    const credits = result.data.credits_remaining;
    this.noteCredits(lane, credits);
    // The account's own word that it has credits again ends its refusal here at once.
    if (typeof credits === 'number' && credits > 0) {
      const circuit = lane.circuit.snapshot();
      if (circuit.reason === 'insufficient_credits') lane.circuit.reset();
    }
    return result;
  }

  /** Every account as this process sees it, in routing order. */
  states(): AccountState[] {
    return this.lanes.map((lane) => ({
      name: lane.name,
      plan: lane.settings.plan,
      limitPerSecond: this.config.rateLimitOf(lane.settings),
      categories: lane.settings.categories,
      teams: lane.settings.teams,
      circuit: lane.circuit.snapshot(),
      creditsRemaining: lane.credits,
      creditsAsOf: lane.creditsAt,
    }));
  }

  /**
   * Each account's circuit as last published by any instance (the api instance answering
   * /v1/queue may send nothing itself). Missing: no instance saw it leave closed.
   */
  async publishedCircuits(): Promise<Map<string, CircuitSnapshot & { instance: string }>> {
    const raw = await this.redis.hgetall(this.circuitsKey);
    const circuits = new Map<string, CircuitSnapshot & { instance: string }>();
    for (const [name, value] of Object.entries(raw)) {
      try {
        circuits.set(name, JSON.parse(value) as CircuitSnapshot & { instance: string });
      } catch {
        // A malformed entry is as good as none: the next change overwrites it.
      }
    }
    return circuits;
  }

  /** An account's provider calls and whole-provider failures over the last 5 minutes, fleet-wide. */
  recentCalls(account: string): Promise<CallCounts> {
    return this.calls.counts(account);
  }

  private everyAccountOutOfCredits(): boolean {
    return this.lanes.every((l) => l.circuit.snapshot().reason === 'insufficient_credits');
  }

  private noteCredits(lane: AccountLane, remaining: number | undefined): void {
    if (typeof remaining !== 'number') return;
    lane.credits = remaining;
    lane.creditsAt = Date.now();
    this.metrics.creditsRemaining.set({ account: lane.name }, remaining);
  }

  /** Start-up only: waits for a slot like a send (it is one request per account, once per boot). */
  async registerWebhook(
    account: string,
    request: Omit<RegisterWebhookRequest, 'url'>,
  ): Promise<ProviderResult<RegisterWebhookResponse> & { url: string }> {
    const lane = this.laneNamed(account);
    const permit = await lane.limiter.acquire('send', this.shutdown.signal);
    const result = await this.observe(lane, 'register_webhook', permit, () =>
      lane.client.registerWebhook({ ...request, url: lane.callbackUrl }),
    );
    return { ...result, url: lane.callbackUrl };
  }

  private lanesFor(route: MessageRoute): AccountLane[] {
    return this.lanes.filter((lane) => lane.matches(route));
  }

  /** A message sent before accounts were kept went through the default (or first) account. */
  private laneNamed(name: string | null): AccountLane {
    const wanted = name ?? this.config.legacyWebhookAccount.name;
    const lane = this.lanes.find((l) => l.name === wanted);
    if (!lane) throw new CallAbandonedError(`no provider account named ${wanted} is configured`);
    return lane;
  }

  private takeSpareSlot(lane: AccountLane, kind: ThrottleKind): Promise<CallPermit | null> {
    return lane.limiter.tryAcquire(kind, this.shutdown.signal);
  }

  private circuitChanged(account: string, snapshot: CircuitSnapshot): void {
    this.metrics.circuitState.set({ account }, CIRCUIT_STATE_VALUE[snapshot.state]);
    const line = `Provider account ${account}: circuit ${snapshot.state}${snapshot.reason ? ` (${snapshot.reason}, last error ${snapshot.lastError ?? 'none'})` : ''}`;
    if (snapshot.state === 'open')
      this.logger.error(`ALERT ${line}; its sending pauses, nothing is failed`);
    else this.logger.log(line);
    const entry = JSON.stringify({ ...snapshot, instance: String(process.pid) });
    // Best effort: the decision is this process's own; the record is for operators.
    void this.redis.hset(this.circuitsKey, account, entry).catch((error: unknown) => {
      this.logger.warn(`Could not publish the circuit of ${account}: ${errorMessage(error)}`);
    });
  }

  /**
   * Makes the call and settles its place in the account's throttle log: an answer (any status)
   * means the provider has counted it; no answer (timeout, reset) leaves it counting, since it
   * may have.
   */
  private async observe<T>(
    lane: AccountLane,
    operation: string,
    permit: CallPermit,
    call: () => Promise<ProviderResult<T>>,
  ): Promise<ProviderResult<T>> {
    const stop = this.metrics.providerLatency.startTimer({ operation });
    try {
      const result = await call();
      void permit.answered(result.rateLimit);
      this.metrics.providerRequests.inc({ operation, outcome: 'ok' });
      this.countCall(lane, 'ok');
      await this.learnLimit(lane, result.rateLimit.limit);
      return result;
    } catch (error) {
      if (error instanceof SmsProviderError) {
        if (error.httpStatus !== null) void permit.answered(error.rateLimit);
        else if (error.neverSent) void permit.unused();
        this.metrics.providerRequests.inc({ operation, outcome: error.code });
        this.countCall(lane, error.code);
        await this.learnLimit(lane, error.rateLimit?.limit ?? null);
        if (error.code === 'rate_limit_exceeded') {
          this.metrics.rateLimited.inc();
          // Everyone waits, not only this caller: the account's window is shared.
          await lane.limiter.backoff(error.retryAfterMs ?? 1000).catch((trouble: unknown) => {
            this.logger.warn(`Could not share the provider's back-off: ${errorMessage(trouble)}`);
          });
        }
      } else {
        this.metrics.providerRequests.inc({ operation, outcome: 'error' });
        this.countCall(lane, 'error');
      }
      throw error;
    } finally {
      stop();
    }
  }

  /** Best effort, off the call's path: the count is for operators, the circuit decides alone. */
  private countCall(lane: AccountLane, outcome: string): void {
    void this.calls.record(lane.name, outcome).catch((error: unknown) => {
      this.logger.debug(`Could not count a call of ${lane.name}: ${errorMessage(error)}`);
    });
  }

  /**
   * Never fails: it runs after the provider answered, and a Redis outage here must not turn an
   * accepted send into an error (the message would then wait for its claim to time out, and be
   * sent again).
   */
  private async learnLimit(lane: AccountLane, limit: number | null): Promise<void> {
    if (limit === null || limit <= 0) return;
    await lane.limiter.setLimitFromProvider(limit).catch((error: unknown) => {
      this.logger.warn(`Could not share the provider's rate limit: ${errorMessage(error)}`);
    });
  }
}

/** A message given back for an unavailable account waits at least this long. */
const MIN_RETRY_MS = 250;

const CIRCUIT_STATE_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

/** The provider failing as a whole: nothing about this message or this account. */
export function failsWholeProvider(error: SmsProviderError): boolean {
  return (
    error.code === 'server_error' || error.code === 'timeout' || error.code === 'network_error'
  );
}

function recipientsOf(request: SendMessageRequest): number {
  return Array.isArray(request.to) ? request.to.length : 1;
}

/** The provider refusing the account (and so sending nothing): another account may take it. */
export function refusesAccount(error: SmsProviderError): boolean {
  return error.code === 'insufficient_credits' || error.code === 'authentication_failed';
}

function sumStats(all: Readonly<Record<string, number>>[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const stats of all) {
    for (const [key, value] of Object.entries(stats)) sum[key] = (sum[key] ?? 0) + value;
  }
  return sum;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
