import { Injectable, Logger } from '@nestjs/common';
import { LOCKS } from '../common/exclusive';
import { PeriodicJobs } from '../common/periodic-jobs';
import { AppConfig } from '../config/app-config';
import { MessageLifecycleRepository } from '../delivery-status/message-lifecycle.repository';
import { MessageQueriesRepository } from '../delivery-status/message-queries.repository';
import { WITH_PROVIDER_STATUSES } from '../delivery-status/message-status';
import { ProviderUpdatesService } from '../delivery-status/provider-updates.service';
import { CallAbandonedError, ProviderGateway, SmsProviderError } from '../provider';

const INTERVAL = 'reconcile';
/** Parked events older than this belong to messages we will never know (another system's). */
const PARKED_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Polling as the fallback for webhooks: one instance at a time asks the provider about messages
 * that went quiet — first after `RECONCILE_STALE_AFTER_MS` (1 min), then backing off (2, 5, 15,
 * 60 min, then hourly) — using only spare rate budget (polls never take a slot a send is waiting
 * for), and gives up on messages that never reach a final status.
 */
@Injectable()
export class ReconcileService {
  private readonly logger = new Logger(ReconcileService.name);

  constructor(
    jobs: PeriodicJobs,
    private readonly queries: MessageQueriesRepository,
    private readonly updates: ProviderUpdatesService,
    private readonly lifecycle: MessageLifecycleRepository,
    private readonly gateway: ProviderGateway,
    private readonly config: AppConfig,
  ) {
    jobs.register({
      name: INTERVAL,
      lockId: LOCKS.reconcile,
      intervalMs: config.reconcile.intervalMs,
      runAtStart: false,
      work: () => this.reconcile(),
    });
  }

  async reconcile(): Promise<{ adopted: number; polled: number; expired: number }> {
    const { staleAfterMs, maxAgeMs, batchSize } = this.config.reconcile;
    const now = Date.now();
    const adopted = await this.updates.adoptParked();
    await this.updates.pruneParked(new Date(now - PARKED_RETENTION_MS));

    let polled = 0;
    // One answer covers every recipient of a provider request (a batch shares its id, and
    // markChecked stamps them all): the round polls each id once, not once per recipient.
    const asked = new Set<string>();
    for (const message of await this.queries.findDueForPoll(
      new Date(now),
      staleAfterMs,
      batchSize,
    )) {
      const request = `${message.account ?? ''}\u0000${message.providerMessageId}`;
      if (asked.has(request)) continue;
      asked.add(request);
      const result = await this.poll(message.providerMessageId, message.account);
      if (result === 'no_budget') break;
      await this.lifecycle.markChecked(message.id);
      polled++;
    }
    const { changed } = await this.lifecycle.transition(
      {
        handedOverBefore: new Date(now - maxAgeMs),
        from: WITH_PROVIDER_STATUSES,
        limit: batchSize,
      },
      {
        to: 'expired',
        source: 'poll',
        error: {
          code: 'status_timeout',
          message: 'No final status from the provider within the maximum age',
        },
        details: { reason: 'no final status within RECONCILE_MAX_AGE_MS' },
      },
    );
    const expired = changed.length;
    if (expired)
      this.logger.warn(`${expired} message(s) had no final status within the maximum age: expired`);
    return { adopted, polled, expired };
  }

  private async poll(
    providerMessageId: string,
    account: string | null,
  ): Promise<'no_budget' | 'done'> {
    try {
      const result = await this.gateway.pollMessage(providerMessageId, account);
      if (!result) return 'no_budget';
      await this.updates.applyPoll(result.data);
    } catch (error) {
      // Its account is no longer configured: nothing can be asked; it ends at the maximum age.
      if (error instanceof CallAbandonedError) {
        this.logger.warn(`Status poll skipped: ${error.message}`);
        return 'done';
      }
      if (!(error instanceof SmsProviderError)) throw error;
      this.logger.warn(`Status poll failed: ${error.code}`);
      if (error.code === 'rate_limit_exceeded') return 'no_budget';
    }
    return 'done';
  }
}
