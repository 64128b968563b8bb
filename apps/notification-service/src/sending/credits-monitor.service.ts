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
import { LOCKS, runExclusive } from '../common/exclusive';
import { PauseService } from './pause.service';
import { ProviderGateway } from './provider-gateway.service';

/** While sending is paused for lack of credits, asks the provider's account now and then. */
@Injectable()
export class CreditsMonitorService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(CreditsMonitorService.name);
  private running: Promise<unknown> | null = null;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly scheduler: SchedulerRegistry,
    private readonly pause: PauseService,
    private readonly gateway: ProviderGateway,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.scheduler.addInterval(
      'credits-monitor',
      setInterval(() => void this.tick(), this.config.schedule.creditsCheckIntervalMs),
    );
  }

  async onModuleDestroy(): Promise<void> {
    if (this.scheduler.doesExist('interval', 'credits-monitor'))
      this.scheduler.deleteInterval('credits-monitor');
    await this.running;
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = runExclusive(this.db, LOCKS.credits, () => this.check())
      .catch((error: unknown) => this.logger.warn(`Credits check failed: ${String(error)}`))
      .finally(() => (this.running = null));
    await this.running;
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
