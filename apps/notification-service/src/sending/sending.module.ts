import { Module } from '@nestjs/common';
import { DeliveryStatusModule } from '../delivery-status/delivery-status.module';
import { ProviderModule } from '../provider';
import { RecipientProtectionModule } from '../recipient-protection/recipient-protection.module';
import { TeamsStoreModule } from '../teams/teams-store.module';
import { TraceLinks } from '../tracing/trace-links.service';
import { CreditsMonitorService } from './credits-monitor.service';
import { SendQueueModule } from './send-queue.module';
import { SendService } from './send.service';
import { SendWorker } from './send.worker';
import { SweeperService } from './sweeper.service';
import { WorkerLeaseRepository } from './worker-lease.repository';
import { WorkerLease } from './worker-lease.service';

/** The worker side: consumes the send queue and runs the periodic repair jobs. */
@Module({
  imports: [
    SendQueueModule,
    ProviderModule,
    DeliveryStatusModule,
    RecipientProtectionModule,
    TeamsStoreModule,
  ],
  providers: [
    SendService,
    SendWorker,
    SweeperService,
    CreditsMonitorService,
    WorkerLease,
    WorkerLeaseRepository,
    TraceLinks,
  ],
  exports: [SweeperService, CreditsMonitorService],
})
export class SendingModule {}
