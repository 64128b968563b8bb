import { Injectable, Logger, Optional } from '@nestjs/common';
import { linkActiveSpanTo } from '../tracing/job-trace';
import { TraceLinks } from '../tracing/trace-links.service';
import { AppConfig } from '../config/app-config';
import { maskPhonesIn } from '../logging/mask';
import { MetricsService } from '../metrics/metrics.service';
import { retryDelayMs } from '../common/retry-policy';
import { CallbackHttpClient, type CallbackResponse } from './callback-http.client';
import { parseCallbackPayload, serializeCallbackPayload } from './callback-payload';
import { CallbackQueue } from './callback-queue.service';
import { generateCallbackSecret, signCallback } from './callback-signature';
import {
  CALLBACK_CONCURRENCY,
  CALLBACK_ERROR_MAX_LENGTH,
  CALLBACK_RETRY_MAX_MS,
} from './callbacks.constants';
import { parseCallbackJob } from './callbacks.dto';
import { CallbacksRepository, type DeliveryForAttempt } from './callbacks.repository';
import { TeamSlots } from './team-slots';

export type AttemptOutcome = 'delivered' | 'retry' | 'failed' | 'skipped' | 'deferred';

/** How long a callback of a team at its concurrency cap waits before it is planned again. */
export const TEAM_BUSY_DEFER_MS = 1000;

/**
 * One attempt of one status callback. Bull delivers jobs at least once, so the delivery is re-read
 * and the job acts only if its attempt number is still the current one; the outcome is recorded
 * conditionally on that number too. Receivers may still, rarely, see an attempt twice (a worker
 * dying after the POST): they deduplicate on webhook-id.
 */
@Injectable()
export class CallbackSender {
  private readonly logger = new Logger(CallbackSender.name);
  private readonly teamSlots: TeamSlots;

  constructor(
    private readonly callbacks: CallbacksRepository,
    private readonly http: CallbackHttpClient,
    private readonly queue: CallbackQueue,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
    @Optional() private readonly traceLinks?: TraceLinks,
  ) {
    this.teamSlots = new TeamSlots(
      Math.min(config.callbacks.teamConcurrency, CALLBACK_CONCURRENCY),
    );
  }

  async handle(data: unknown): Promise<AttemptOutcome> {
    const job = parseCallbackJob(data);
    if (!job) {
      this.logger.warn('Dropped a callback job with malformed data');
      return 'skipped';
    }
    const delivery = await this.callbacks.findForAttempt(job.deliveryId);
    if (!delivery || delivery.status !== 'pending' || delivery.attempts !== job.attempt) {
      return 'skipped';
    }
    if (!this.teamSlots.tryTake(delivery.team)) {
      // Every worker this team may use is waiting on its endpoint: give this one back, planned
      // again shortly (not an attempt), so the other teams' callbacks get the free workers.
      await this.callbacks.postpone(
        delivery.id,
        delivery.attempts,
        new Date(Date.now() + TEAM_BUSY_DEFER_MS),
      );
      return 'deferred';
    }
    let response: CallbackResponse;
    const payload = parseCallbackPayload(delivery.payload);
    try {
      // With tracing on, this callback's span links to the send of the message it reports on.
      linkActiveSpanTo(await this.traceLinks?.recallForMessage(delivery.messageId));
      response = payload
        ? await this.post(delivery, serializeCallbackPayload(payload))
        : { ok: false, statusCode: null, error: 'Stored payload is not a callback payload' };
    } finally {
      this.teamSlots.release(delivery.team);
    }
    const outcome = await this.record(delivery, response, payload === null);
    if (outcome === 'skipped') return outcome;
    this.metrics.callbacks.inc({ outcome });
    if (outcome !== 'retry') {
      // This message's next status change was waiting for this one to be settled.
      const next = await this.callbacks.nextForMessage(delivery.messageId);
      if (next) await this.queue.enqueue([next]);
    }
    return outcome;
  }

  private async post(delivery: DeliveryForAttempt, body: string): Promise<CallbackResponse> {
    const secret = await this.secretFor(delivery.team);
    // Signed at every attempt: the timestamp is the time of this request, not of the status change.
    const headers = signCallback({ id: delivery.id, timestamp: new Date(), body, secret });
    return this.http.post(delivery.url, body, { ...headers }, this.config.callbacks.timeoutMs);
  }

  private async record(
    delivery: DeliveryForAttempt,
    response: CallbackResponse,
    unsendable: boolean,
  ): Promise<AttemptOutcome> {
    if (response.ok && response.statusCode !== null) {
      const recorded = await this.callbacks.recordDelivered(
        delivery.id,
        delivery.attempts,
        response.statusCode,
      );
      return recorded ? 'delivered' : 'skipped';
    }

    const attempts = delivery.attempts + 1;
    // A redelivered callback gets a full round of attempts, with the backoff starting over.
    const inRound = attempts - delivery.attemptsBase;
    const final =
      unsendable || response.permanent === true || inRound >= this.config.callbacks.maxAttempts;
    const nextAttemptAt = new Date(
      Date.now() + retryDelayMs(inRound, this.config.callbacks.retryBaseMs, CALLBACK_RETRY_MAX_MS),
    );
    const error = maskPhonesIn(response.error ?? 'Unknown error').slice(
      0,
      CALLBACK_ERROR_MAX_LENGTH,
    );
    const recorded = await this.callbacks.recordFailure(delivery.id, delivery.attempts, {
      statusCode: response.statusCode,
      error,
      final,
      nextAttemptAt,
    });
    if (!recorded) return 'skipped';

    // The URL may carry the receiver's own credentials: only its host is logged.
    const where = hostOf(delivery.url);
    if (final) {
      this.logger.warn(
        `Callback ${delivery.id} to ${where} failed for good after ${attempts} attempt(s): ${error}`,
      );
      return 'failed';
    }
    this.logger.log(
      `Callback ${delivery.id} to ${where} attempt ${attempts} failed (${error}); retrying`,
    );
    await this.queue.enqueue([{ id: delivery.id, attempts, nextAttemptAt }]);
    return 'retry';
  }

  /**
   * A team that never created a secret still gets signed callbacks: one is created on its first
   * callback and the team rotates it (POST /v1/callbacks/secret) to learn one. Sending unsigned
   * would teach receivers to accept unsigned requests.
   */
  private async secretFor(team: string): Promise<string> {
    const existing = await this.callbacks.findSecret(team);
    if (existing) return existing.secret;
    const { secret, created } = await this.callbacks.createSecretIfMissing(
      team,
      generateCallbackSecret(),
    );
    if (created) {
      this.logger.warn(
        `Team ${team} had no callback secret: created one for its first callback; it must rotate it to verify signatures`,
      );
    }
    return secret;
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'an invalid URL';
  }
}
