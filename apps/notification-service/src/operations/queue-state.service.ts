import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { MessageQueriesRepository } from '../delivery-status/message-queries.repository';
import { WITH_PROVIDER_STATUSES } from '../delivery-status/message-status';
import { DispatchService } from '../sending/dispatch.service';
import { PauseService } from '../sending/pause.service';
import type { QueueStateView } from './operations.dto';

/**
 * The queue as an operator needs it. The database answers what is waiting and how fast it goes
 * (Bull only holds jobs for work due soon, so its counts miss anything scheduled later); Redis
 * answers whether sending is paused.
 */
@Injectable()
export class QueueStateService {
  constructor(
    private readonly queries: MessageQueriesRepository,
    private readonly pause: PauseService,
    private readonly dispatch: DispatchService,
    private readonly config: AppConfig,
  ) {}

  async state(): Promise<QueueStateView> {
    const [backlog, pause, jobs] = await Promise.all([
      this.queries.backlog(this.config.schedule.scheduleLookaheadMs),
      this.pause.state(),
      this.dispatch.counts(),
    ]);
    return {
      ...pause,
      backlog: {
        scheduled: backlog.byStatus.scheduled,
        scheduled_due_soon: backlog.scheduledDueSoon,
        // The queue shows a claimed message apart from those still waiting.
        pending: backlog.byStatus.pending - backlog.claimed,
        pending_due: backlog.pendingDue,
        claimed: backlog.claimed,
        at_provider: WITH_PROVIDER_STATUSES.reduce((n, status) => n + backlog.byStatus[status], 0),
        oldest_pending_seconds:
          backlog.oldestPendingSeconds === null ? null : round(backlog.oldestPendingSeconds, 3),
      },
      send_rate: {
        per_second: round(backlog.handedOverLast10s / 10, 2),
        per_second_last_minute: round(backlog.handedOverLast60s / 60, 2),
        plan_limit_per_second: this.config.rateLimitPerSecond,
      },
      credits: {
        remaining: backlog.creditsRemaining,
        as_of: backlog.creditsAsOf ? backlog.creditsAsOf.toISOString() : null,
      },
      jobs,
    };
  }
}

function round(value: number, decimals: number): number {
  const scale = 10 ** decimals;
  return Math.round(value * scale) / scale;
}
