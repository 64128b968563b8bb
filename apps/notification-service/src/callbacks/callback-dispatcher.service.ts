import { Injectable } from '@nestjs/common';
import { LOCKS } from '../common/exclusive';
import { PeriodicJobs } from '../common/periodic-jobs';
import { CallbackQueue } from './callback-queue.service';
import { CALLBACK_DISPATCH_BATCH, CALLBACK_DISPATCH_INTERVAL_MS } from './callbacks.constants';
import { CallbacksRepository } from './callbacks.repository';

const INTERVAL_NAME = 'status-callbacks';
const REDIS_TIMEOUT_MS = 5000;

/**
 * Hands due callbacks to Bull. Callback rows are created by a database trigger, which cannot talk
 * to Redis, so this is how new callbacks start; the same pass re-enqueues any whose job Redis lost.
 * Runs on one instance at a time, and only the oldest pending callback of each message is taken,
 * so a message's status changes reach the receiver in order.
 */
@Injectable()
export class CallbackDispatcher {
  constructor(
    jobs: PeriodicJobs,
    private readonly callbacks: CallbacksRepository,
    private readonly queue: CallbackQueue,
  ) {
    jobs.register({
      name: INTERVAL_NAME,
      lockId: LOCKS.callbacks,
      intervalMs: CALLBACK_DISPATCH_INTERVAL_MS,
      runAtStart: true,
      work: () => this.dispatch(),
    });
  }

  /** One pass; returns how many jobs it created. Public so tests and operators can force it. */
  dispatch(): Promise<number> {
    return this.callbacks.withDueBatch(CALLBACK_DISPATCH_BATCH, (refs) =>
      // The rows stay locked while Redis is asked: a Redis that hangs must not keep them so.
      withTimeout(this.queue.ensureQueued(refs), REDIS_TIMEOUT_MS),
    );
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
