import {
  Global,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { runExclusive } from './exclusive';

export interface PeriodicJobOptions {
  /** Name in @nestjs/schedule's registry and in logs. */
  name: string;
  /** Advisory lock (see LOCKS): one instance of the fleet runs the work at a time. */
  lockId: number;
  intervalMs: number;
  /** Also run once right at start (work that is due after a restart shouldn't wait a period). */
  runAtStart?: boolean;
  work: () => Promise<unknown>;
}

class PeriodicJob {
  private running: Promise<unknown> | null = null;

  constructor(
    readonly options: PeriodicJobOptions,
    private readonly db: DataSource,
    private readonly logger: Logger,
  ) {}

  async tick(): Promise<void> {
    if (this.running) return;
    this.running = runExclusive(this.db, this.options.lockId, this.options.work)
      .catch((error: unknown) => this.logger.warn(`${this.options.name} failed: ${String(error)}`))
      .finally(() => (this.running = null));
    await this.running;
  }

  async settled(): Promise<void> {
    await this.running;
  }
}

/**
 * The periodic jobs of this process (sweeper, credits check, reconciler, callback dispatcher).
 * Each runs on one instance at a time across the fleet and never overlaps itself here: a run
 * still going when the next period comes is not doubled. Errors are logged and the next period
 * tries again. Jobs start once the application is up and are stopped, waiting for a run in
 * progress, before the database connection closes.
 */
@Injectable()
export class PeriodicJobs implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PeriodicJobs.name);
  private readonly jobs: PeriodicJob[] = [];

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  register(options: PeriodicJobOptions): void {
    this.jobs.push(new PeriodicJob(options, this.db, this.logger));
  }

  onApplicationBootstrap(): void {
    for (const job of this.jobs) {
      const { name, intervalMs, runAtStart } = job.options;
      this.scheduler.addInterval(
        name,
        setInterval(() => void job.tick(), intervalMs),
      );
      if (runAtStart) void job.tick();
    }
  }

  async onModuleDestroy(): Promise<void> {
    for (const { options } of this.jobs) {
      if (this.scheduler.doesExist('interval', options.name)) {
        this.scheduler.deleteInterval(options.name);
      }
    }
    await Promise.all(this.jobs.map((job) => job.settled()));
  }
}

@Global()
@Module({ providers: [PeriodicJobs], exports: [PeriodicJobs] })
export class PeriodicJobsModule {}
