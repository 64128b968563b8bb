import { Injectable } from '@nestjs/common';
import { LOCKS } from '../common/exclusive';
import { PeriodicJobs } from '../common/periodic-jobs';
import { NotificationsRepository } from './notifications.repository';

const PURGE_EVERY_MS = 60_000;

/**
 * Idempotency records are honoured for 24 h; once a minute one intake instance deletes the
 * expired ones, so the table stays the size of a day of keyed requests.
 */
@Injectable()
export class IdempotencyPurge {
  constructor(jobs: PeriodicJobs, notifications: NotificationsRepository) {
    jobs.register({
      name: 'idempotency-purge',
      lockId: LOCKS.idempotency,
      intervalMs: PURGE_EVERY_MS,
      runAtStart: false,
      work: () => notifications.purgeExpiredIdempotency(),
    });
  }
}
