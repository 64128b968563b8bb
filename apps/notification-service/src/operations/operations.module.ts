import { Module } from '@nestjs/common';
import { ProviderModule } from '../provider/provider.module';
import { SendQueueModule } from '../sending/send-queue.module';
import { OperationsController } from './operations.controller';

@Module({
  imports: [SendQueueModule, ProviderModule],
  controllers: [OperationsController],
})
export class OperationsModule {}
