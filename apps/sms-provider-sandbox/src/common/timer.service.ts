import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { Clock } from './clock';
import { SandboxLogger } from './sandbox-logger';

// setTimeout overflows above 2^31-1 ms (~24.8 days) and fires at once; far-off schedules hop.
const MAX_TIMEOUT_MS = 2_147_483_647;

/**
 * Every delayed action of the sandbox (lifecycle steps, webhook retries) goes through here so that
 * a reset or shutdown cancels all of them: nothing fires into a closed app or a wiped state.
 */
@Injectable()
export class TimerService implements OnApplicationShutdown {
  private readonly pending = new Set<NodeJS.Timeout>();

  constructor(
    private readonly clock: Clock,
    private readonly logger: SandboxLogger,
  ) {}

  /** Runs `task` at epoch time `atMs` (at once if that has passed). */
  at(atMs: number, task: () => void | Promise<void>): void {
    const delay = Math.max(0, atMs - this.clock.now());
    const timer = setTimeout(
      () => {
        this.pending.delete(timer);
        if (delay > MAX_TIMEOUT_MS) {
          this.at(atMs, task);
          return;
        }
        this.run(task);
      },
      Math.min(delay, MAX_TIMEOUT_MS),
    );
    // Pending timers must not keep a test process alive; the HTTP server does that for main.ts.
    timer.unref();
    this.pending.add(timer);
  }

  after(delayMs: number, task: () => void | Promise<void>): void {
    this.at(this.clock.now() + delayMs, task);
  }

  cancelAll(): void {
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
  }

  onApplicationShutdown(): void {
    this.cancelAll();
  }

  private run(task: () => void | Promise<void>): void {
    try {
      const result = task();
      if (result instanceof Promise) {
        result.catch((error: unknown) =>
          this.logger.error(`Scheduled task failed: ${String(error)}`, TimerService.name),
        );
      }
    } catch (error) {
      this.logger.error(`Scheduled task failed: ${String(error)}`, TimerService.name);
    }
  }
}
