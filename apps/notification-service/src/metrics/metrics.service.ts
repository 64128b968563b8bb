import { Injectable } from '@nestjs/common';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The service's Prometheus metrics. A registry per application instance (not prom-client's global
 * one) so that several instances can live in one process, as the end-to-end tests run them.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly notificationsAccepted = new Counter({
    name: 'notify_notifications_accepted_total',
    help: 'Notification requests accepted (202)',
    labelNames: ['template'] as const,
    registers: [this.registry],
  });

  readonly messagesAccepted = new Counter({
    name: 'notify_messages_accepted_total',
    help: 'Messages (one per recipient) accepted',
    registers: [this.registry],
  });

  readonly providerRequests = new Counter({
    name: 'notify_provider_requests_total',
    help: 'Calls to the SMS provider by operation and outcome',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly providerLatency = new Histogram({
    name: 'notify_provider_request_seconds',
    help: 'Latency of calls to the SMS provider',
    labelNames: ['operation'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10],
    registers: [this.registry],
  });

  readonly messageTransitions = new Counter({
    name: 'notify_message_status_total',
    help: 'Message status changes by new status',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  readonly rateLimited = new Counter({
    name: 'notify_provider_rate_limited_total',
    help: '429 answers from the provider (should stay at zero)',
    registers: [this.registry],
  });

  readonly sendingPaused = new Gauge({
    name: 'notify_sending_paused',
    help: '1 while sending is paused, by reason (credits, manual)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly creditsExhausted = new Counter({
    name: 'notify_provider_credits_exhausted_total',
    help: 'Times the provider answered insufficient_credits (alert on increase)',
    registers: [this.registry],
  });

  readonly scheduleLag = new Histogram({
    name: 'notify_schedule_lag_seconds',
    help: 'How late scheduled messages reached the provider compared to scheduled_at',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });

  readonly webhooks = new Counter({
    name: 'notify_provider_webhooks_total',
    help: 'Provider webhooks received by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly callbacks = new Counter({
    name: 'notify_status_callbacks_total',
    help: 'Status callbacks to callers by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  private throttleStats: (() => Readonly<Record<string, number>>) | undefined;

  /** Read from the limiter at scrape time: it keeps its own counts, which only ever grow. */
  readonly throttle = new Counter({
    name: 'notify_throttle_total',
    help:
      'Shared throttle in this process: slots acquired and refused, calls held back by the log ' +
      'of calls or logged again after a late answer, slots voided by a 429 backoff',
    labelNames: ['event'] as const,
    registers: [this.registry],
    collect: () => {
      const stats = this.throttleStats?.();
      if (!stats) return;
      this.throttle.reset();
      for (const [event, count] of Object.entries(stats)) {
        this.throttle.inc({ event }, count);
      }
    },
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** The limiter's own counters by event, read at scrape time (provider/ owns the limiter). */
  watchThrottle(stats: () => Readonly<Record<string, number>>): void {
    this.throttleStats = stats;
  }
}
