import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { LOCKS } from '../common/exclusive';
import { ExclusiveInterval } from '../common/exclusive-interval';
import { PauseService } from './pause.service';
import { ProviderGateway } from './provider-gateway.service';

/** While sending is paused for lack of credits, asks the provider's account now and then. */
@Injectable()
export class CreditsMonitorService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(CreditsMonitorService.name);
  private readonly job: ExclusiveInterval;

  constructor(
    @InjectDataSource() db: DataSource,
    scheduler: SchedulerRegistry,
    private readonly pause: PauseService,
    private readonly gateway: ProviderGateway,
    config: AppConfig,
  ) {
    this.job = new ExclusiveInterval(
      {
        name: 'credits-monitor',
        lockId: LOCKS.credits,
        intervalMs: config.schedule.creditsCheckIntervalMs,
        runAtStart: false,
        work: () => this.check(),
      },
      db,
      scheduler,
      this.logger,
    );
  }

  onApplicationBootstrap(): void {
    this.job.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.job.stop();
  }

  async check(): Promise<boolean> {
    const state = await this.pause.state();
    if (state.reason !== 'insufficient_credits') return false;
    const account = await this.gateway.account();
    const credits = account ? creditsOf(account.data) : null;
    if (credits !== null && credits > 0) {
      this.logger.log(`Provider account has ${credits} credits again: resuming sending`);
      await this.pause.resume();
      return true;
    }
    return false;
  }
}

export function creditsOf(account: Record<string, unknown>): number | null {
  for (const field of ['credits_remaining', 'credits', 'balance']) {
    const value = account[field];
    if (typeof value === 'number' && Number.isFinite(value)) return value;
  }
  return null;
}
