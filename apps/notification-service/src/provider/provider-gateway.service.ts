import { setMaxListeners } from 'node:events';
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
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import type { RedisClient } from '../redis/redis-connection';
import { REDIS, redisKey } from '../redis/redis.module';
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

export interface SendOptions {
  /** Checked after the slot is granted, right before the request: false abandons the call. */
  stillValid?: () => boolean;
}

/**
 * Every call this service makes to the provider goes through here: it draws from the shared rate
 * budget first, feeds the provider's rate-limit headers back into it, and counts the outcome.
 */
@Injectable()
export class ProviderGateway implements OnModuleDestroy {
  readonly limiter: RedisRateLimiter;
  private readonly shutdown = new AbortController();
  private readonly logger = new Logger(ProviderGateway.name);

  constructor(
    private readonly client: SmsProviderClient,
    private readonly metrics: MetricsService,
    @Inject(REDIS) redis: RedisClient,
    config: AppConfig,
  ) {
    // Every waiting send listens to this one signal; dozens at once is expected, not a leak.
    setMaxListeners(0, this.shutdown.signal);
    this.limiter = new RedisRateLimiter(redis, {
      keyPrefix: `${redisKey(config, 'provider')}:`,
      limitPerSecond: config.rateLimitPerSecond,
      safetyFactor: config.sending.throttleSafetyFactor,
      countedWithinMs: config.sending.throttleCountedWithinMs,
    });
    metrics.watchThrottle(() => this.limiter.stats());
  }

  onModuleDestroy(): void {
    this.shutdown.abort(new Error('shutting down'));
  }

  /** Waits for a send slot (sends outrank polls), then sends at once. */
  async send(
    request: SendMessageRequest,
    options: SendOptions = {},
  ): Promise<ProviderResult<SendMessageResponse>> {
    const waited = this.metrics.throttleWait.startTimer();
    let permit: CallPermit;
    try {
      permit = await this.limiter.acquire('send', this.shutdown.signal);
    } catch (error) {
      // Redis unreachable, or shutting down: no slot, so nothing was sent.
      throw new CallAbandonedError(`no send slot: ${errorMessage(error)}`);
    } finally {
      waited();
    }
    if (options.stillValid && !options.stillValid()) {
      void permit.unused();
      throw new CallAbandonedError('the worker lease lapsed while waiting for a send slot');
    }
    const result = await this.observe('send', permit, () => this.client.sendMessage(request));
    this.noteCredits(result.data.credits_remaining);
    return result;
  }

  /** Null when there is no spare budget right now (sends are waiting): try later. */
  async pollMessage(providerMessageId: string): Promise<ProviderResult<ProviderMessage> | null> {
    const permit = await this.takeSpareSlot('poll');
    if (!permit) return null;
    return this.observe('get_message', permit, () => this.client.getMessage(providerMessageId));
  }

  /** `wait`: an operator asked, so queue for a slot like a send; otherwise only spare budget. */
  account(wait: true): Promise<ProviderResult<ProviderAccount>>;
  account(wait?: false): Promise<ProviderResult<ProviderAccount> | null>;
  async account(wait = false): Promise<ProviderResult<ProviderAccount> | null> {
    const permit = wait
      ? await this.limiter.acquire('send', this.shutdown.signal)
      : await this.takeSpareSlot('poll');
    if (!permit) return null;
    const result = await this.observe('get_account', permit, () => this.client.getAccount());
    this.noteCredits(result.data.credits_remaining);
    return result;
  }

  private noteCredits(remaining: number | undefined): void {
    if (typeof remaining === 'number') this.metrics.creditsRemaining.set(remaining);
  }

  /** Start-up only: waits for a slot like a send (it is one request, once per boot). */
  async registerWebhook(
    request: RegisterWebhookRequest,
  ): Promise<ProviderResult<RegisterWebhookResponse>> {
    const permit = await this.limiter.acquire('send', this.shutdown.signal);
    return this.observe('register_webhook', permit, () => this.client.registerWebhook(request));
  }

  private takeSpareSlot(kind: ThrottleKind): Promise<CallPermit | null> {
    return this.limiter.tryAcquire(kind, this.shutdown.signal);
  }

  /**
   * Makes the call and settles its place in the throttle's log: an answer (any status) means the
   * provider has counted it; no answer (timeout, reset) leaves it counting, since it may have.
   */
  private async observe<T>(
    operation: string,
    permit: CallPermit,
    call: () => Promise<ProviderResult<T>>,
  ): Promise<ProviderResult<T>> {
    const stop = this.metrics.providerLatency.startTimer({ operation });
    try {
      const result = await call();
      void permit.answered(result.rateLimit);
      this.metrics.providerRequests.inc({ operation, outcome: 'ok' });
      await this.learnLimit(result.rateLimit.limit);
      return result;
    } catch (error) {
      if (error instanceof SmsProviderError) {
        if (error.httpStatus !== null) void permit.answered(error.rateLimit);
        else if (error.neverSent) void permit.unused();
        this.metrics.providerRequests.inc({ operation, outcome: error.code });
        await this.learnLimit(error.rateLimit?.limit ?? null);
        if (error.code === 'rate_limit_exceeded') {
          this.metrics.rateLimited.inc();
          // Everyone waits, not only this caller: the provider's window is shared.
          await this.limiter.backoff(error.retryAfterMs ?? 1000).catch((trouble: unknown) => {
            this.logger.warn(`Could not share the provider's back-off: ${errorMessage(trouble)}`);
          });
        }
      } else {
        this.metrics.providerRequests.inc({ operation, outcome: 'error' });
      }
      throw error;
    } finally {
      stop();
    }
  }

  /**
   * Never fails: it runs after the provider answered, and a Redis outage here must not turn an
   * accepted send into an error (the message would then wait for its claim to time out, and be
   * sent again).
   */
  private async learnLimit(limit: number | null): Promise<void> {
    if (limit === null || limit <= 0) return;
    await this.limiter.setLimitFromProvider(limit).catch((error: unknown) => {
      this.logger.warn(`Could not share the provider's rate limit: ${errorMessage(error)}`);
    });
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
