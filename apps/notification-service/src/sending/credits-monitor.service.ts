import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { LOCKS } from '../common/exclusive';
import { PeriodicJobs } from '../common/periodic-jobs';
import { PauseService } from './pause.service';
import { ProviderGateway } from '../provider/provider-gateway.service';

/** While sending is paused for lack of credits, asks the provider's accounts now and then. */
@Injectable()
export class CreditsMonitorService {
  private readonly logger = new Logger(CreditsMonitorService.name);

  constructor(
    jobs: PeriodicJobs,
    private readonly pause: PauseService,
    private readonly gateway: ProviderGateway,
    config: AppConfig,
  ) {
    jobs.register({
      name: 'credits-monitor',
      lockId: LOCKS.credits,
      intervalMs: config.schedule.creditsCheckIntervalMs,
      runAtStart: false,
      work: () => this.check(),
    });
  }

  async check(): Promise<boolean> {
    const state = await this.pause.state();
    if (state.reason !== 'insufficient_credits') return false;
    // Paused only when every account ran out: the first with credits again resumes sending.
    for (const name of this.gateway.accountNames()) {
      // One account failing to answer must not keep the others from being asked.
      const account = await this.gateway.account(false, name).catch((error: unknown) => {
        this.logger.warn(`Credits check of account ${name} failed: ${String(error)}`);
        return null;
      });
      const credits = account ? creditsOf(account.data) : null;
      if (credits !== null && credits > 0) {
        this.logger.log(`Provider account ${name} has ${credits} credits again: resuming sending`);
        await this.pause.resume();
        return true;
      }
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
