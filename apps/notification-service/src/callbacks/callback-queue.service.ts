import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import { withoutJob } from '../common/queue-jobs';
import { MetricsService } from '../metrics/metrics.service';
import type { JobOptions, Queue } from 'bull';
import { CALLBACK_JOB, CALLBACK_QUEUE, type CallbackJobData } from './callbacks.constants';
import type { DeliveryRef } from './callbacks.repository';

/**
 * The producer side of the callback queue. A job is one planned attempt, its id
 * `<delivery id>.<attempts so far>`: the dispatcher recovering a lost job and the sender planning
 * a retry can never put the same attempt in Redis twice.
 */
@Injectable()
export class CallbackQueue {
  constructor(
    @InjectQueue(CALLBACK_QUEUE) private readonly queue: Queue<CallbackJobData>,
    metrics: MetricsService,
  ) {
    metrics.watchQueue('callback', async () => ({
      ...(await this.queue.getJobCounts()),
      paused: await this.queue.getPausedCount(),
    }));
  }

  static jobId(ref: Pick<DeliveryRef, 'id' | 'attempts'>): string {
    return `${ref.id}.${ref.attempts}`;
  }

  async enqueue(refs: DeliveryRef[]): Promise<void> {
    if (refs.length === 0) return;
    await this.queue.addBulk(
      refs.map((ref) => ({
        name: CALLBACK_JOB,
        data: { deliveryId: ref.id, attempt: ref.attempts },
        opts: jobOptions(ref),
      })),
    );
  }

  /** Enqueues those of `refs` whose job is not in Redis; returns how many that was. */
  async ensureQueued(refs: DeliveryRef[]): Promise<number> {
    const missing = await withoutJob(this.queue, refs, (ref) => CallbackQueue.jobId(ref));
    await this.enqueue(missing);
    return missing.length;
  }
}

function jobOptions(ref: DeliveryRef): JobOptions {
  const dueIn = ref.nextAttemptAt.getTime() - Date.now();
  return {
    jobId: CallbackQueue.jobId(ref),
    delay: dueIn > 0 ? dueIn : undefined,
    // Retries are planned by the sender from the database's attempts count, not by Bull: a job
    // that throws is dropped and the dispatcher finds its delivery again.
    attempts: 1,
    removeOnComplete: true,
    removeOnFail: true,
  };
}
