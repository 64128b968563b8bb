import { Injectable, Logger } from '@nestjs/common';
import { GroupCommit, isLockConflict, isRowError } from '../common/group-commit';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import type { EventSource } from './message';
import { MessageLifecycleRepository, type ProviderChange } from './message-lifecycle.repository';
import { isFailure } from './message-status';
import { ParkedEventsRepository } from './parked-events.repository';
import { ParkingGate } from './parking-gate';
import {
  parsePollAnswer,
  parseProviderUpdate,
  type ProviderStatusUpdate,
  toParkedPayload,
} from './provider-status';

/** `orphaned`: about a message we don't know yet, parked; `dropped`: the same, not kept. */
export type ApplyOutcome = 'applied' | 'unchanged' | 'orphaned' | 'dropped';

/** Webhook batches in flight at once. */
const WEBHOOK_CONCURRENT_BATCHES = 4;
/** Events per batch at most: one transaction stays short. */
const WEBHOOK_BATCH_EVENTS = 500;

/** Applies status news from the provider (webhooks, polls) and adopts parked webhook events. */
@Injectable()
export class ProviderUpdatesService {
  private readonly logger = new Logger(ProviderUpdatesService.name);

  /** Webhook events arriving together, applied in one transaction (see GroupCommit). */
  private readonly webhooks: GroupCommit<
    ProviderStatusUpdate,
    'applied' | 'unchanged' | 'orphaned'
  >;

  private readonly parking: ParkingGate;

  constructor(
    private readonly lifecycle: MessageLifecycleRepository,
    private readonly parked: ParkedEventsRepository,
    private readonly metrics: MetricsService,
    config: AppConfig,
  ) {
    this.parking = new ParkingGate(config.parkedEvents, () => this.parked.count());
    this.webhooks = new GroupCommit({
      commit: async (updates) => {
        const results = await this.lifecycle.applyProviderUpdates(
          updates.map(toProviderChange),
          'webhook',
        );
        return results.map((r) => (!r.matched ? 'orphaned' : r.changed ? 'applied' : 'unchanged'));
      },
      concurrency: WEBHOOK_CONCURRENT_BATCHES,
      maxWeight: WEBHOOK_BATCH_EVENTS,
      isItemError: (error) => isRowError(error) || isLockConflict(error),
      onBatch: (items) => metrics.batchItems.observe({ writer: 'webhooks' }, items),
    });
  }

  /**
   * One provider event. An event for a provider id we don't know yet is parked (webhooks only;
   * a poll always names a message we know) and applied once the send is recorded: only its parsed
   * fields, and only within PARKED_EVENTS_PER_SECOND and PARKED_EVENTS_MAX (beyond them it is
   * dropped and counted; polling still finds the message's status). Webhook events that arrive
   * together share one transaction; each call still returns only once its own event is committed.
   */
  async apply(payload: unknown, source: EventSource): Promise<ApplyOutcome | 'ignored'> {
    const update = parseProviderUpdate(payload);
    if (!update) return 'ignored';
    if (source !== 'webhook') return this.applyUpdate(update, source);
    return this.applyWebhook(update);
  }

  /**
   * A poll's answer: the news of every recipient it lists (a request to many numbers has one id
   * for all of them), in one transaction. 'applied' when any message moved.
   */
  async applyPoll(answer: unknown): Promise<ApplyOutcome | 'ignored'> {
    const updates = parsePollAnswer(answer);
    if (!updates.length) return 'ignored';
    const results = await this.lifecycle.applyProviderUpdates(
      updates.map(toProviderChange),
      'poll',
    );
    if (results.some((r) => r.changed)) return 'applied';
    return results.some((r) => r.matched) ? 'unchanged' : 'orphaned';
  }

  private async applyWebhook(update: ProviderStatusUpdate): Promise<ApplyOutcome> {
    const outcome = await this.webhooks.submit(update);
    if (outcome !== 'orphaned') return outcome;
    const verdict = await this.parking.park(() => this.parked.park(toParkedPayload(update)));
    if (verdict === 'parked') return 'orphaned';
    this.metrics.parkedEventsDropped.inc({ reason: verdict });
    return 'dropped';
  }

  private async applyUpdate(
    update: ProviderStatusUpdate,
    source: EventSource,
  ): Promise<'applied' | 'unchanged' | 'orphaned'> {
    const change = toProviderChange(update);
    const { matched, changed } = await this.lifecycle.transition(
      { providerMessageId: update.providerMessageId, recipient: update.recipient },
      {
        to: change.to,
        source,
        // One row per status whatever the number of copies (replays, webhook + poll).
        dedupeKey: `provider:${change.to}`,
        occurredAt: change.occurredAt,
        sentAt: change.sentAt,
        deliveredAt: change.deliveredAt,
        error: change.error,
        fromProvider: true,
      },
    );
    if (!matched) return 'orphaned';
    return changed.length ? 'applied' : 'unchanged';
  }

  /**
   * Applies the events parked for `providerMessageId` (or for every message that has become
   * known, when omitted). Called right after a send is recorded, and periodically as a backstop
   * for the race where an event is parked just as the message's id is committed.
   */
  async adoptParked(providerMessageId?: string): Promise<number> {
    const parked = providerMessageId
      ? await this.parked.findParkedFor(providerMessageId)
      : await this.parked.findAdoptable(500);
    let applied = 0;
    for (const event of parked) {
      const update = parseProviderUpdate(event.payload);
      if (update && (await this.applyUpdate(update, 'webhook')) === 'applied') applied++;
    }
    await this.parked.deleteParked(parked.map((e) => e.id));
    if (applied)
      this.logger.log(
        `Applied ${applied} webhook event(s) that arrived before their message was recorded`,
      );
    return applied;
  }

  pruneParked(olderThan: Date): Promise<number> {
    return this.parked.pruneParked(olderThan);
  }
}

function toProviderChange(update: ProviderStatusUpdate): ProviderChange {
  return {
    providerMessageId: update.providerMessageId,
    recipient: update.recipient,
    to: update.status,
    occurredAt: update.occurredAt,
    sentAt: update.sentAt,
    deliveredAt: update.deliveredAt,
    error:
      isFailure(update.status) && update.errorCode
        ? { code: update.errorCode, message: update.errorMessage }
        : null,
  };
}
