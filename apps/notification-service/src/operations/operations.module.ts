import { Module } from '@nestjs/common';
import { DeliveryStatusModule } from '../delivery-status/delivery-status.module';
import { ProviderModule } from '../provider';
import { SendQueueModule } from '../sending/send-queue.module';
import { OperationsController } from './operations.controller';
import { QueueStateService } from './queue-state.service';

@Module({
  imports: [DeliveryStatusModule, SendQueueModule, ProviderModule],
  controllers: [OperationsController],
  providers: [QueueStateService],
})
export class OperationsModule {}
