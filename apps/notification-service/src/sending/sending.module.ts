import { Module } from '@nestjs/common';
import { NotificationsStoreModule } from '../notifications/notifications-store.module';
import { ProviderModule } from '../provider/provider.module';
import { CreditsMonitorService } from './credits-monitor.service';
import { SendQueueModule } from './send-queue.module';
import { SendService } from './send.service';
import { SendWorker } from './send.worker';
import { SweeperService } from './sweeper.service';

/** The worker side: consumes the send queue and runs the periodic repair jobs. */
@Module({
  imports: [SendQueueModule, ProviderModule, NotificationsStoreModule],
  providers: [SendService, SendWorker, SweeperService, CreditsMonitorService],
  exports: [SweeperService, CreditsMonitorService],
})
export class SendingModule {}
