import { Module } from '@nestjs/common';
import { DeliveryStatusModule } from '../delivery-status/delivery-status.module';
import { SendQueueModule } from '../sending/send-queue.module';
import { MessagesController } from './messages.controller';
import { MessagesService } from './messages.service';

@Module({
  imports: [DeliveryStatusModule, SendQueueModule],
  controllers: [MessagesController],
  providers: [MessagesService],
})
export class MessagesModule {}
