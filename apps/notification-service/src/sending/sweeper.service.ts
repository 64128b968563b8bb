import { VALIDITY_ELAPSED } from '../common/recipient-error-codes';
import { VALIDITY_ELAPSED_MESSAGE } from './sending.constants';
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { LOCKS } from '../common/exclusive';
import { PeriodicJobs } from '../common/periodic-jobs';
import { MessageLifecycleRepository } from '../delivery-status/message-lifecycle.repository';
import { MessageQueriesRepository } from '../delivery-status/message-queries.repository';
import { UNSENT_STATUSES } from '../delivery-status/message-status';
import { DispatchService } from './dispatch.service';
import { WorkerLeaseRepository } from './worker-lease.repository';
import { WorkerLease } from './worker-lease.service';

const BATCH = 1000;
/** A due message gets this long to be picked up before we ask whether its job still exists. */
const GRACE_MS = 2000;
const PURGE_EVERY_MS = 60_000;
/** Lapsed leases are kept this long for whoever investigates a crash, then pruned. */
const LEASE_RETENTION_MS = 24 * 60 * 60 * 1000;

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
    private readonly lifecycle: MessageLifecycleRepository,
    private readonly queries: MessageQueriesRepository,
    private readonly leases: WorkerLeaseRepository,
    private readonly lease: WorkerLease,
    private readonly dispatch: DispatchService,
    private readonly config: AppConfig,
  ) {
    // Every heartbeat: a process that died mid-call leaves claims nobody else may take; its lease
    // lapses within WORKER_LEASE_TTL_MS, and then its messages go back to the front of the queue.
    jobs.register({
      name: 'claim-reaper',
      lockId: LOCKS.claims,
      intervalMs: config.sending.heartbeatMs,
      runAtStart: true,
      work: () => this.releaseDeadClaims(),
    });
    jobs.register({
      name: 'sweeper',
      lockId: LOCKS.sweeper,
      intervalMs: config.schedule.sweepIntervalMs,
      runAtStart: true,
      work: () => this.sweep(),
    });
  }

  /** Releases the claims of every process whose lease has lapsed; returns how many. */
  async releaseDeadClaims(): Promise<number> {
    // Just back from a database outage ourselves, a lapsed lease says nothing yet.
    if (!this.lease.judgesOthersLapses()) return 0;
    const released = await this.lifecycle.releaseClaims(
      { ownerLeaseLapsed: true },
      { countsAsAttempt: true },
      {
        type: 'claim_released',
        source: 'sweeper',
        details: { reason: 'the worker holding the claim stopped (its lease lapsed)' },
      },
    );
    if (released.length) {
      this.logger.warn(`Released ${released.length} claim(s) of a worker that stopped`);
      await this.dispatch.dispatchMany(released, { front: true });
    }
    return released.length;
  }

  /** One pass; public so tests and operators can force it. */
  async sweep(): Promise<{
    released: number;
    expired: number;
    scheduled: number;
    recovered: number;
  }> {
    const now = Date.now();
    // The backstop for a live process stuck on a call longer than any call may take.
    const stale = await this.lifecycle.releaseClaims(
      { claimedBefore: new Date(now - this.config.sending.claimTimeoutMs) },
      { countsAsAttempt: true },
      {
        type: 'claim_expired',
        source: 'sweeper',
        details: { reason: 'worker did not report the provider call back in time' },
      },
    );
    if (stale.length)
      this.logger.warn(`Released ${stale.length} stale claim(s) for another attempt`);
    await this.dispatch.dispatchMany(stale, { front: true });

    const { changed: expiredRows } = await this.lifecycle.transition(
      { pastExpiry: true, unclaimed: true, from: UNSENT_STATUSES, limit: BATCH },
      {
        to: 'expired',
        source: 'sweeper',
        error: { code: VALIDITY_ELAPSED, message: VALIDITY_ELAPSED_MESSAGE },
        details: { reason: 'its validity ran out before it could be sent' },
      },
    );
    const expired = expiredRows.length;

    const scheduled = await this.dispatch.ensureQueued(
      await this.queries.findScheduledBefore(
        new Date(now + this.config.schedule.scheduleLookaheadMs),
        BATCH,
      ),
    );
    const recovered = await this.dispatch.ensureQueued(
      await this.queries.findDuePending(new Date(now - GRACE_MS), BATCH),
    );
    if (recovered) this.logger.warn(`Re-enqueued ${recovered} message(s) whose job was missing`);

    if (now - this.lastPurge > PURGE_EVERY_MS) {
      this.lastPurge = now;
      await this.leases.pruneLapsed(new Date(now - LEASE_RETENTION_MS));
    }
    return { released: stale.length, expired, scheduled, recovered };
  }
}
