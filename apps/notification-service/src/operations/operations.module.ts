import { Module } from '@nestjs/common';
import { ProviderModule } from '../provider';
import { SendQueueModule } from '../sending/send-queue.module';
import { OperationsController } from './operations.controller';

@Module({
  imports: [SendQueueModule, ProviderModule],
  controllers: [OperationsController],
})
export class OperationsModule {}
