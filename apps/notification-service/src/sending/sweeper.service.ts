import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { LOCKS } from '../common/exclusive';
import { PeriodicJobs } from '../common/periodic-jobs';
import { MessagesRepository } from '../notifications/messages.repository';
import { NotificationsRepository } from '../notifications/notifications.repository';
import { DispatchService } from './dispatch.service';

const BATCH = 1000;
/** A due message gets this long to be picked up before we ask whether its job still exists. */
const GRACE_MS = 2000;
const PURGE_EVERY_MS = 60_000;

/**
 * PostgreSQL is the source of truth, Redis only carries work: every few seconds one instance
 * compares the two and repairs Redis (lost jobs, scheduled messages coming due, stale claims,
 * expiries). This is what makes a Redis flush or a crash between commit and enqueue harmless.
 */
@Injectable()
export class SweeperService {
  private readonly logger = new Logger(SweeperService.name);
  private lastPurge = 0;

  constructor(
    jobs: PeriodicJobs,
    private readonly messages: MessagesRepository,
    private readonly notifications: NotificationsRepository,
    private readonly dispatch: DispatchService,
    private readonly config: AppConfig,
  ) {
    jobs.register({
      name: 'sweeper',
      lockId: LOCKS.sweeper,
      intervalMs: config.schedule.sweepIntervalMs,
      runAtStart: true,
      work: () => this.sweep(),
    });
  }

  /** One pass; public so tests and operators can force it. */
  async sweep(): Promise<{
    released: number;
    expired: number;
    scheduled: number;
    recovered: number;
  }> {
    const now = Date.now();
    const stale = await this.messages.releaseStaleClaims(
      new Date(now - this.config.sending.claimTimeoutMs),
    );
    if (stale.length)
      this.logger.warn(`Released ${stale.length} stale claim(s) for another attempt`);
    await this.dispatch.dispatchMany(stale);

    const expired = await this.messages.expireOverdue(BATCH);

    const scheduled = await this.dispatch.ensureQueued(
      await this.messages.findScheduledBefore(
        new Date(now + this.config.schedule.scheduleLookaheadMs),
        BATCH,
      ),
    );
    const recovered = await this.dispatch.ensureQueued(
      await this.messages.findDuePending(new Date(now - GRACE_MS), BATCH),
    );
    if (recovered) this.logger.warn(`Re-enqueued ${recovered} message(s) whose job was missing`);

    if (now - this.lastPurge > PURGE_EVERY_MS) {
      this.lastPurge = now;
      await this.notifications.purgeExpiredIdempotency();
    }
    return { released: stale.length, expired, scheduled, recovered };
  }
}
