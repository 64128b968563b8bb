import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { TeamsStoreModule } from '../teams/teams-store.module';
import { DispatchService } from './dispatch.service';
import { FairShare } from './fair-share';
import { PauseService } from './pause.service';
import { SEND_QUEUE } from './sending.constants';

/** The send queue and its producer side: what both the API and the workers need. */
const sendQueue = BullModule.registerQueue({ name: SEND_QUEUE });

@Module({
  imports: [sendQueue, TeamsStoreModule],
  providers: [DispatchService, PauseService, FairShare],
  exports: [sendQueue, DispatchService, PauseService],
})
export class SendQueueModule {}
