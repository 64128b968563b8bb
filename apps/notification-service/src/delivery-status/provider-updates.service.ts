import { Injectable, Logger } from '@nestjs/common';
import type { EventSource } from '../notifications/entities/message-event.entity';
import { MetricsService } from '../metrics/metrics.service';
import { type ApplyOutcome, ProviderEventsRepository } from './provider-events.repository';
import { parseProviderUpdate } from './provider-status';

/** Applies status news from the provider (webhooks, polls) and adopts parked webhook events. */
@Injectable()
export class ProviderUpdatesService {
  private readonly logger = new Logger(ProviderUpdatesService.name);

  constructor(
    private readonly events: ProviderEventsRepository,
    private readonly metrics: MetricsService,
  ) {}

  async apply(payload: unknown, source: EventSource): Promise<ApplyOutcome | 'ignored'> {
    const update = parseProviderUpdate(payload);
    if (!update) return 'ignored';
    const outcome = await this.events.apply(update, source, payload, source === 'webhook');
    if (outcome === 'applied') this.metrics.messageTransitions.inc({ status: update.status });
    return outcome;
  }

  /**
   * Applies the events parked for `providerMessageId` (or for every message that has become
   * known, when omitted). Called right after a send is recorded, and periodically as a backstop
   * for the race where an event is parked just as the message's id is committed.
   */
  async adoptParked(providerMessageId?: string): Promise<number> {
    const parked = providerMessageId
      ? await this.events.findParkedFor(providerMessageId)
      : await this.events.findAdoptable(500);
    let applied = 0;
    for (const event of parked) {
      const update = parseProviderUpdate(event.payload);
      if (
        update &&
        (await this.events.apply(update, 'webhook', event.payload, false)) === 'applied'
      ) {
        applied++;
        this.metrics.messageTransitions.inc({ status: update.status });
      }
    }
    await this.events.deleteParked(parked.map((e) => e.id));
    if (applied)
      this.logger.log(
        `Applied ${applied} webhook event(s) that arrived before their message was recorded`,
      );
    return applied;
  }

  pruneParked(olderThan: Date): Promise<number> {
    return this.events.pruneParked(olderThan);
  }
}
