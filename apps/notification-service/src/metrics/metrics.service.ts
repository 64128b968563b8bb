import { Injectable } from '@nestjs/common';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { errorCodeLabel } from './error-code-label';

const MISNAMED_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

const PAUSE_REASONS = ['insufficient_credits', 'manual'] as const;

/** What the database says at scrape time about work not finished yet. */
export interface ScrapedGauges {
  byStatus: Record<string, number>;
  oldestPendingSeconds: number;
  inRetry: number;
  scheduledOverdueSeconds: number;
}

/** heldByLog → held_by_log: label values in the API's case. */
function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

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

  private pauseState: (() => Promise<{ paused: boolean; reason: string | null }>) | undefined;

  /** Read from the shared pause record at scrape: every instance reports the same, from start. */
  readonly sendingPaused = new Gauge({
    name: 'notify_sending_paused',
    help: '1 while sending is paused (any reason), else 0',
    registers: [this.registry],
    collect: async () => {
      const state = await this.pauseState?.();
      this.sendingPaused.set(state?.paused ? 1 : 0);
    },
  });

  readonly sendingPausedByReason = new Gauge({
    name: 'notify_sending_paused_reason',
    help: '1 for the reason sending is paused now (insufficient_credits, manual), else 0',
    labelNames: ['reason'] as const,
    registers: [this.registry],
    collect: async () => {
      const state = await this.pauseState?.();
      for (const reason of PAUSE_REASONS) {
        this.sendingPausedByReason.set({ reason }, state?.reason === reason ? 1 : 0);
      }
    },
  });

  private teamBudgets: (() => Promise<{ team: string; ratio: number }[]>) | undefined;

  /** Read at scrape from the teams' budgets (teams/ owns them): the same on every instance. */
  readonly teamBudgetUsedRatio = new Gauge({
    name: 'notify_team_budget_used_ratio',
    help: 'Provider credits a team used this month over its monthly budget (teams with a budget)',
    labelNames: ['team'] as const,
    registers: [this.registry],
    collect: async () => {
      const ratios = await this.teamBudgets?.();
      if (!ratios) return;
      this.teamBudgetUsedRatio.reset();
      for (const { team, ratio } of ratios) this.teamBudgetUsedRatio.set({ team }, ratio);
    },
  });

  readonly httpDuration = new Histogram({
    name: 'notify_http_request_duration_seconds',
    help: 'HTTP requests served, by method, route template and status class (2xx, 4xx, 5xx)',
    labelNames: ['method', 'route', 'status_class'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly batchItems = new Histogram({
    name: 'notify_batch_items',
    help: 'Items committed together in one transaction by a group-commit writer (intake, webhooks)',
    labelNames: ['writer'] as const,
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
    registers: [this.registry],
  });

  /** Counted through countFailure(), which keeps the label to a fixed set. */
  private readonly messageFailures = new Counter({
    name: 'notify_message_failures_total',
    help: 'Messages that ended failed or expired, by error code (the known codes, else "other")',
    labelNames: ['error_code'] as const,
    registers: [this.registry],
  });

  readonly parkedEventsDropped = new Counter({
    name: 'notify_parked_events_dropped_total',
    help:
      'Provider events for messages not known yet, acknowledged but not kept: over ' +
      'PARKED_EVENTS_PER_SECOND (reason "rate") or PARKED_EVENTS_MAX (reason "full")',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly throttleWait = new Histogram({
    name: 'notify_throttle_wait_seconds',
    help: 'Time a provider call waited for its slot of the shared rate budget',
    buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly creditsRemaining = new Gauge({
    name: 'notify_provider_credits_remaining',
    help: 'Provider credits left per account, as of the last answer that said (absent before one)',
    labelNames: ['account'] as const,
    registers: [this.registry],
  });

  readonly circuitState = new Gauge({
    name: 'notify_provider_circuit_state',
    help: "Each provider account's circuit in this process: 0 closed, 1 half-open (a probe may go), 2 open (its sending paused)",
    labelNames: ['account'] as const,
    registers: [this.registry],
  });

  private readonly gauges: { read: () => Promise<ScrapedGauges> }[] = [];
  private scraping: Promise<void> | null = null;

  readonly messagesInState = new Gauge({
    name: 'notify_messages',
    help: 'Messages not final yet, by status (read from the database at scrape)',
    labelNames: ['status'] as const,
    registers: [this.registry],
    collect: () => this.collectScraped(),
  });

  readonly oldestPendingAge = new Gauge({
    name: 'notify_oldest_pending_age_seconds',
    help: 'How long the oldest unsent message has waited since it became due (scheduled time, else acceptance), back-offs included (0 when none waits)',
    registers: [this.registry],
    collect: () => this.collectScraped(),
  });

  readonly messagesInRetry = new Gauge({
    name: 'notify_messages_in_retry',
    help: 'Pending messages given back after a provider error, waiting to be tried again',
    registers: [this.registry],
    collect: () => this.collectScraped(),
  });

  readonly scheduledOverdueAge = new Gauge({
    name: 'notify_scheduled_overdue_age_seconds',
    help: 'How far past its time the most overdue scheduled message is (0 when none is)',
    registers: [this.registry],
    collect: () => this.collectScraped(),
  });

  private readonly queues = new Map<string, () => Promise<Record<string, number>>>();

  readonly queueJobs = new Gauge({
    name: 'notify_queue_jobs',
    help: 'Jobs in the Bull queues by queue and state (read from Redis at scrape)',
    labelNames: ['queue', 'state'] as const,
    registers: [this.registry],
    collect: async () => {
      for (const [queue, counts] of this.queues) {
        for (const [state, n] of Object.entries(await counts())) {
          this.queueJobs.set({ queue, state }, n);
        }
      }
    },
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

  readonly recipientCapRefusals = new Counter({
    name: 'notify_recipient_cap_refusals_total',
    help: 'Messages refused by the flood cap per number, by category',
    labelNames: ['category'] as const,
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
        this.throttle.inc({ event: snakeCase(event) }, count);
      }
    },
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Gauges named like counters (promtool refuses them); the per-type gauges beside them stay.
    for (const name of MISNAMED_DEFAULTS) this.registry.removeSingleMetric(name);
  }

  /** One message that ended failed or expired with `errorCode` (any text: it is bounded here). */
  countFailure(errorCode: string): void {
    this.messageFailures.inc({ error_code: errorCodeLabel(errorCode) });
  }

  /** The shared pause record, read at scrape time (sending/ owns it). */
  watchPause(state: () => Promise<{ paused: boolean; reason: string | null }>): void {
    this.pauseState = state;
  }

  /** Each budgeted team's used share of its budget, read at scrape time (teams/ owns it). */
  watchTeamBudgets(read: () => Promise<{ team: string; ratio: number }[]>): void {
    this.teamBudgets = read;
  }

  /** Job counts of a queue by state, read at scrape time (the queue's owner registers it). */
  watchQueue(queue: string, counts: () => Promise<Record<string, number>>): void {
    this.queues.set(queue, counts);
  }

  /** The backlog as the database sees it, read at scrape time (delivery-status/ owns it). */
  watchBacklog(read: () => Promise<ScrapedGauges>): void {
    this.gauges.splice(0, this.gauges.length, { read });
  }

  /**
   * prom-client collects every metric of a scrape at once: each backlog gauge awaits the same
   * read, else a gauge not holding the collect would show the previous scrape's value.
   */
  private collectScraped(): Promise<void> {
    this.scraping ??= this.readScraped().finally(() => {
      this.scraping = null;
    });
    return this.scraping;
  }

  private async readScraped(): Promise<void> {
    const [source] = this.gauges;
    if (!source) return;
    const scraped = await source.read();
    for (const [status, n] of Object.entries(scraped.byStatus)) {
      this.messagesInState.set({ status }, n);
    }
    this.oldestPendingAge.set(scraped.oldestPendingSeconds);
    this.messagesInRetry.set(scraped.inRetry);
    this.scheduledOverdueAge.set(scraped.scheduledOverdueSeconds);
  }

  /** The limiter's own counters by event, read at scrape time (provider/ owns the limiter). */
  watchThrottle(stats: () => Readonly<Record<string, number>>): void {
    this.throttleStats = stats;
  }
}
