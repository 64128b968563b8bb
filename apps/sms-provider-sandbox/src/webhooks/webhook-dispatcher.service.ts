import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import {
  signWebhookPayload,
  type ProviderWebhookPayload,
  type WebhookEventType,
} from '@app/sms-provider';
import { SANDBOX_CONFIG, type SandboxConfig } from '../config';
import { Clock } from '../common/clock';
import { isoTime } from '../common/iso-time';
import { maskPhone } from '../common/mask-phone';
import { SandboxLogger } from '../common/sandbox-logger';
import { TimerService } from '../common/timer.service';
import type { SandboxMessage } from '../messages/message';
import { WebhookDeliveryLogService } from './webhook-delivery-log.service';
import { eventFor } from './webhook-events';
import { WebhookSubscriptionsService } from './webhook-subscriptions.service';

interface Delivery {
  id: string;
  messageId: string;
  to: string;
  event: WebhookEventType;
  url: string;
  body: string;
  signature: string;
}

/**
 * Signs and POSTs status-change events to the message's callback_url and to every registered URL
 * subscribed to the event, retrying non-2xx answers and network errors with exponential backoff.
 * Each delivery keeps one body for all its attempts, so a retry verifies like the original.
 */
@Injectable()
export class WebhookDispatcherService implements OnApplicationShutdown {
  // Aborted on reset and shutdown so no request outlives the state (or the app) it came from.
  private lifetime = new AbortController();

  constructor(
    @Inject(SANDBOX_CONFIG) private readonly config: SandboxConfig,
    private readonly clock: Clock,
    private readonly timers: TimerService,
    private readonly subscriptions: WebhookSubscriptionsService,
    private readonly deliveryLog: WebhookDeliveryLogService,
    private readonly logger: SandboxLogger,
  ) {}

  /** Every event names its recipient (`to`): a batch's recipients share one `message_id`. */
  messageChanged(message: SandboxMessage): void {
    const event = eventFor(message.status);
    const payload: ProviderWebhookPayload = {
      event,
      message_id: message.id,
      to: message.to,
      status: message.status,
      ...(message.sentAt !== null && { sent_at: isoTime(message.sentAt) }),
      ...(message.deliveredAt !== null && { delivered_at: isoTime(message.deliveredAt) }),
      ...(message.error !== null && { error: message.error }),
      timestamp: Math.floor(this.clock.now() / 1000),
    };
    const body = JSON.stringify(payload);
    const signature = signWebhookPayload(body, this.config.webhookSecret);
    const urls = new Set(this.subscriptions.urlsFor(message.accountKey, event));
    if (message.callbackUrl !== null) urls.add(message.callbackUrl);
    for (const url of urls) {
      const delivery: Delivery = {
        id: `whd_${randomBytes(8).toString('hex')}`,
        messageId: message.id,
        to: message.to,
        event,
        url,
        body,
        signature,
      };
      void this.attempt(delivery, 1, maskPhone(message.to));
    }
  }

  /** Drops pending retries' in-flight requests; the timers themselves are TimerService's. */
  abortInFlight(): void {
    this.lifetime.abort();
    this.lifetime = new AbortController();
  }

  onApplicationShutdown(): void {
    this.lifetime.abort();
  }

  private async attempt(delivery: Delivery, attempt: number, maskedTo: string): Promise<void> {
    const lifetime = this.lifetime.signal;
    const startedAt = this.clock.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'sms-provider-sandbox',
          'x-smsprovider-signature': delivery.signature,
          'x-smsprovider-event': delivery.event,
          'x-smsprovider-delivery': delivery.id,
          'x-smsprovider-attempt': String(attempt),
        },
        body: delivery.body,
        // A redirect is a misconfigured receiver, not a delivery; count it as a failed attempt.
        redirect: 'manual',
        signal: AbortSignal.any([lifetime, AbortSignal.timeout(this.config.webhookTimeoutMs)]),
      });
      statusCode = response.status;
      // Drain so the connection can be reused; the receiver's answer itself is of no interest.
      await response.arrayBuffer().catch(() => undefined);
      if (statusCode < 200 || statusCode >= 300) error = `HTTP ${statusCode}`;
    } catch (caught) {
      if (lifetime.aborted) return;
      error = describeFetchError(caught, this.config.webhookTimeoutMs);
    }

    this.deliveryLog.record({
      delivery_id: delivery.id,
      message_id: delivery.messageId,
      to: delivery.to,
      event: delivery.event,
      url: delivery.url,
      attempt,
      at: new Date(startedAt).toISOString(),
      status_code: statusCode,
      error,
      duration_ms: Math.round(this.clock.now() - startedAt),
      body: delivery.body,
      signature: delivery.signature,
    });
    if (error === null) return;

    const what = `${delivery.event} of ${delivery.messageId} (${maskedTo}) to ${withoutQuery(delivery.url)}`;
    if (attempt >= this.config.webhookMaxAttempts) {
      this.logger.warn(
        `Webhook ${what} failed (${error}); gave up after ${attempt} attempt(s)`,
        WebhookDispatcherService.name,
      );
      return;
    }
    const delayMs = this.config.webhookRetryBaseMs * 2 ** (attempt - 1);
    this.logger.debug(
      `Webhook ${what} failed (${error}); attempt ${attempt + 1} in ${delayMs} ms`,
      WebhookDispatcherService.name,
    );
    this.timers.after(delayMs, () => this.attempt(delivery, attempt + 1, maskedTo));
  }
}

/** Receivers often carry a token in the query string; logs get origin and path only. */
function withoutQuery(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError')
    return `timeout after ${timeoutMs} ms`;
  // undici hides the socket error (ECONNREFUSED...) in `cause`.
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  if (cause && typeof cause.code === 'string') return `network error: ${cause.code}`;
  return `network error: ${error instanceof Error ? error.message : String(error)}`;
}
