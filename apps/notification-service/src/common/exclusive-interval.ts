import type { Logger } from '@nestjs/common';
import type { SchedulerRegistry } from '@nestjs/schedule';
import type { DataSource } from 'typeorm';
import { runExclusive } from './exclusive';

export interface ExclusiveIntervalOptions {
  /** Name in @nestjs/schedule's registry. */
  name: string;
  /** Advisory lock (see LOCKS): one instance of the fleet runs the work at a time. */
  lockId: number;
  intervalMs: number;
  /** Also run once right at start (work that is due after a restart shouldn't wait a period). */
  runAtStart?: boolean;
  work: () => Promise<unknown>;
}

/**
 * A periodic job that runs on one instance at a time across the fleet and never overlaps itself
 * on this one: a run still going when the next period comes is not doubled. Errors are logged and
 * the next period tries again.
 */
export class ExclusiveInterval {
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly options: ExclusiveIntervalOptions,
    private readonly db: DataSource,
    private readonly scheduler: SchedulerRegistry,
    private readonly logger: Logger,
  ) {}

  start(): void {
    const { name, intervalMs, runAtStart } = this.options;
    this.scheduler.addInterval(
      name,
      setInterval(() => void this.tick(), intervalMs),
    );
    if (runAtStart) void this.tick();
  }

  /** Stops the timer and waits for a run in progress, so shutdown never cuts one in half. */
  async stop(): Promise<void> {
    if (this.scheduler.doesExist('interval', this.options.name)) {
      this.scheduler.deleteInterval(this.options.name);
    }
    await this.running;
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = runExclusive(this.db, this.options.lockId, this.options.work)
      .catch((error: unknown) => this.logger.warn(`${this.options.name} failed: ${String(error)}`))
      .finally(() => (this.running = null));
    await this.running;
  }
}
