import { Module } from '@nestjs/common';
import { ProviderModule } from '../provider';
import { SendQueueModule } from '../sending/send-queue.module';
import { OperationsController } from './operations.controller';
import { QueueStateRepository } from './queue-state.repository';
import { QueueStateService } from './queue-state.service';

@Module({
  imports: [SendQueueModule, ProviderModule],
  controllers: [OperationsController],
  providers: [QueueStateRepository, QueueStateService],
})
export class OperationsModule {}
