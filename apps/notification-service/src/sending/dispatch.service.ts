import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import type { JobOptions, Queue } from 'bull';
import { withoutJob } from '../common/queue-jobs';
import type { Message } from '../delivery-status/message';
import type { DispatchRef } from '../delivery-status/message-row';
import { AppConfig } from '../config/app-config';
import { currentRequestId } from '../logging/log-context';
import { MetricsService } from '../metrics/metrics.service';
import { currentTraceCarrier } from '../tracing/job-trace';
import { FairShare } from './fair-share';
import { SCHEDULE_EARLY_MS, SEND_JOB, SEND_QUEUE, type SendJobData } from './sending.constants';

/**
 * The producer side of the send queue. Job ids are deterministic (`<message id>.<dispatch seq>`),
 * so enqueuing the same planned attempt twice (after a crash, from the sweeper) creates one job.
 */
/** What dispatchNew() needs of a message just stored. */
export type NewlyAccepted = Pick<
  Message,
  'id' | 'dispatchSeq' | 'priority' | 'status' | 'nextAttemptAt' | 'team'
>;

@Injectable()
export class DispatchService {
  constructor(
    @InjectQueue(SEND_QUEUE) private readonly queue: Queue<SendJobData>,
    private readonly config: AppConfig,
    private readonly fairShare: FairShare,
    metrics: MetricsService,
  ) {
    metrics.watchQueue('send', () => this.counts());
  }

  static jobId(ref: Pick<DispatchRef, 'id' | 'dispatchSeq'>): string {
    return `${ref.id}.${ref.dispatchSeq}`;
  }

  /** Messages just accepted: pending ones now, scheduled ones if they fall inside the lookahead. */
  async dispatchNew(messages: readonly NewlyAccepted[]): Promise<void> {
    const horizon = Date.now() + this.config.schedule.scheduleLookaheadMs;
    const due = messages.filter(
      (m) =>
        m.status === 'pending' ||
        (m.status === 'scheduled' && (m.nextAttemptAt?.getTime() ?? 0) <= horizon),
    );
    await this.dispatchMany(
      due.map((m) => ({
        id: m.id,
        dispatchSeq: m.dispatchSeq,
        priority: m.priority,
        nextAttemptAt: m.nextAttemptAt,
        team: m.team,
      })),
    );
  }

  /**
   * `front`: ahead of every waiting job of the same priority (a message whose worker died has
   * waited already), still behind higher priorities.
   */
  async dispatchMany(refs: DispatchRef[], { front = false } = {}): Promise<void> {
    if (refs.length === 0) return;
    const requestId = currentRequestId();
    const carrier = currentTraceCarrier();
    const trace = Object.keys(carrier).length > 0 ? { trace: carrier } : {};
    await this.fairShare.enqueue(refs, front, (priorities) =>
      this.queue.addBulk(
        refs.map((ref, index) => ({
          name: SEND_JOB,
          data: {
            messageId: ref.id,
            seq: ref.dispatchSeq,
            ...(requestId ? { requestId } : {}),
            ...trace,
          },
          opts: this.jobOptions(ref, priorities[index]),
        })),
      ),
    );
  }

  /**
   * Enqueues those of `refs` that have no job in Redis: the database says they are due, so a
   * missing job means it was lost (flush, restart, crash between commit and enqueue).
   */
  async ensureQueued(refs: DispatchRef[]): Promise<number> {
    const missing = await withoutJob(this.queue, refs, (ref) => DispatchService.jobId(ref));
    await this.dispatchMany(missing);
    return missing.length;
  }

  private jobOptions(ref: DispatchRef, priority: number): JobOptions {
    const dueIn = (ref.nextAttemptAt?.getTime() ?? 0) - Date.now();
    return {
      jobId: DispatchService.jobId(ref),
      priority,
      // Released a little early: the worker waits out the rest itself, far more precisely than
      // Bull's delayed-job promotion would.
      delay: dueIn > SCHEDULE_EARLY_MS ? dueIn - SCHEDULE_EARLY_MS : undefined,
      attempts: 1,
      removeOnComplete: true,
      removeOnFail: true,
    };
  }

  pause(): Promise<void> {
    return this.queue.pause();
  }

  resume(): Promise<void> {
    return this.queue.resume();
  }

  async counts(): Promise<Record<string, number>> {
    const counts = await this.queue.getJobCounts();
    return { ...counts, paused: await this.queue.getPausedCount() };
  }
}
