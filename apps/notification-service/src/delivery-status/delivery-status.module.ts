import { Module } from '@nestjs/common';
import { BacklogGauges } from './backlog-gauges';
import { MessageLifecycleRepository } from './message-lifecycle.repository';
import { MessageQueriesRepository } from './message-queries.repository';
import { ParkedEventsRepository } from './parked-events.repository';
import { ProviderUpdatesService } from './provider-updates.service';

/**
 * The owner of the message lifecycle: the one writer of messages' status, claims and timeline,
 * and the application of the provider's status news to them. Sending, the webhook receiver,
 * reconciliation, the sweeper and cancel all go through it; the reads other folders need of the
 * same rows are named queries here too.
 */
@Module({
  providers: [
    MessageLifecycleRepository,
    ParkedEventsRepository,
    ProviderUpdatesService,
    MessageQueriesRepository,
    BacklogGauges,
  ],
  exports: [MessageLifecycleRepository, MessageQueriesRepository, ProviderUpdatesService],
})
export class DeliveryStatusModule {}
