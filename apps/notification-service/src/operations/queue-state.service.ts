import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { DispatchService } from '../sending/dispatch.service';
import { PauseService } from '../sending/pause.service';
import type { QueueStateView } from './operations.dto';
import { QueueStateRepository } from './queue-state.repository';

/**
 * The queue as an operator needs it. The database answers what is waiting and how fast it goes
 * (Bull only holds jobs for work due soon, so its counts miss anything scheduled later); Redis
 * answers whether sending is paused.
 */
@Injectable()
export class QueueStateService {
  constructor(
    private readonly repository: QueueStateRepository,
    private readonly pause: PauseService,
    private readonly dispatch: DispatchService,
    private readonly config: AppConfig,
  ) {}

  async state(): Promise<QueueStateView> {
    const [row, pause, jobs] = await Promise.all([
      this.repository.backlog(this.config.schedule.scheduleLookaheadMs),
      this.pause.state(),
      this.dispatch.counts(),
    ]);
    return {
      ...pause,
      backlog: {
        scheduled: row.scheduled,
        scheduled_due_soon: row.scheduled_due_soon,
        pending: row.pending,
        pending_due: row.pending_due,
        claimed: row.claimed,
        at_provider: row.at_provider,
        oldest_pending_seconds: row.oldest_pending_seconds,
      },
      send_rate: {
        per_second: round(row.handed_over_last_10s / 10),
        per_second_last_minute: round(row.handed_over_last_60s / 60),
        plan_limit_per_second: this.config.rateLimitPerSecond,
      },
      credits: {
        remaining: row.credits_remaining,
        as_of: row.credits_as_of ? row.credits_as_of.toISOString() : null,
      },
      jobs,
    };
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
