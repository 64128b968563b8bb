import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IdempotencyRecord } from './entities/idempotency-record.entity';
import { MessageEvent } from '../delivery-status/entities/message-event.entity';
import { Message } from '../delivery-status/entities/message.entity';
import { Notification } from './entities/notification.entity';
import { NotificationsRepository } from './notifications.repository';

/** Data access to notifications, their idempotency records and the views of their messages. */
@Module({
  imports: [TypeOrmModule.forFeature([Notification, Message, MessageEvent, IdempotencyRecord])],
  providers: [NotificationsRepository],
  exports: [NotificationsRepository],
})
export class NotificationsStoreModule {}
