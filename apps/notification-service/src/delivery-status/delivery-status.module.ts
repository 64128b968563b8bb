import { Module } from '@nestjs/common';
import { BacklogGaugesRepository } from './backlog-gauges.repository';
import { MessageLifecycleRepository } from './message-lifecycle.repository';
import { ParkedEventsRepository } from './parked-events.repository';
import { ProviderUpdatesService } from './provider-updates.service';

/**
 * The owner of the message lifecycle: the one writer of messages' status, claims and timeline,
 * and the application of the provider's status news to them. Sending, the webhook receiver,
 * reconciliation, the sweeper and cancel all go through it.
 */
@Module({
  providers: [
    MessageLifecycleRepository,
    ParkedEventsRepository,
    ProviderUpdatesService,
    BacklogGaugesRepository,
  ],
  exports: [MessageLifecycleRepository, ProviderUpdatesService],
})
export class DeliveryStatusModule {}
