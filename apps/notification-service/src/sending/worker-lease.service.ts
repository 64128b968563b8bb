import { randomUUID } from 'node:crypto';
import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnModuleInit,
} from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { WorkerLeaseRepository } from './worker-lease.repository';

/**
 * This process's lease: proof to the rest of the fleet that it is alive. Every claim it takes
 * carries the lease id; when the heartbeat stops (the process died), the lease lapses after
 * WORKER_LEASE_TTL_MS and any live instance releases its claims at once, rather than waiting for
 * SEND_CLAIM_TIMEOUT_MS. A live process that could not renew in time (database unreachable, event
 * loop frozen) must assume its claims are gone, so it makes no provider call until it has renewed.
 */
@Injectable()
export class WorkerLease implements OnModuleInit, BeforeApplicationShutdown {
  readonly id = randomUUID();
  private readonly logger = new Logger(WorkerLease.name);
  private timer: NodeJS.Timeout | undefined;
  /** performance.now() when the last successful renewal was sent. */
  private renewedAt = Number.NEGATIVE_INFINITY;
  private renewing: Promise<void> | null = null;
  private failing = false;
  /** performance.now() of the last renewal that failed. */
  private failedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly leases: WorkerLeaseRepository,
    private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.renew();
    this.timer = setInterval(() => void this.renew(), this.config.sending.heartbeatMs);
  }

  /**
   * Whether claims taken under this lease are still this process's. Measured from when the last
   * renewal that succeeded was sent, which is no later than the database's stamp of it, and one
   * heartbeat short of the TTL, so a process never trusts a lease the fleet already holds lapsed.
   */
  isHeld(): boolean {
    const { leaseTtlMs, heartbeatMs } = this.config.sending;
    return performance.now() - this.renewedAt < leaseTtlMs - heartbeatMs;
  }

  /**
   * Whether another process's lapsed lease means that process is dead. Not right after this
   * process could not reach the database itself: then the others could not either, and their
   * leases lapsed with them alive. Once this one has renewed for a TTL and a heartbeat, every
   * live process has had the time to renew too, and what is still lapsed is dead.
   */
  judgesOthersLapses(): boolean {
    const { leaseTtlMs, heartbeatMs } = this.config.sending;
    return performance.now() - this.failedAt >= leaseTtlMs + heartbeatMs;
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.renewing;
    // The send worker has finished its jobs by now (it closes in onModuleDestroy): no claim of
    // ours is left, and the lease can go.
    await this.leases.drop(this.id).catch((error: unknown) => {
      this.logger.warn(`Could not drop the worker lease: ${String(error)}`);
    });
  }

  private renew(): Promise<void> {
    if (this.renewing) return this.renewing;
    const sentAt = performance.now();
    this.renewing = this.leases
      .renew(this.id, this.config.sending.leaseTtlMs)
      .then(() => {
        this.renewedAt = sentAt;
        if (this.failing) this.logger.log('Worker lease renewed again');
        this.failing = false;
      })
      .catch((error: unknown) => {
        // Logged once per outage, not once a second.
        if (!this.failing) this.logger.warn(`Worker lease renewal failed: ${String(error)}`);
        this.failing = true;
        this.failedAt = performance.now();
      })
      .finally(() => (this.renewing = null));
    return this.renewing;
  }
}
