import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IdempotencyRecord } from './entities/idempotency-record.entity';
import { MessageEvent } from './entities/message-event.entity';
import { Message } from './entities/message.entity';
import { Notification } from './entities/notification.entity';
import { MessagesRepository } from './messages.repository';
import { NotificationsRepository } from './notifications.repository';

/** Data access to notifications and messages, shared by the API and the workers. */
@Module({
  imports: [TypeOrmModule.forFeature([Notification, Message, MessageEvent, IdempotencyRecord])],
  providers: [NotificationsRepository, MessagesRepository],
  exports: [NotificationsRepository, MessagesRepository],
})
export class NotificationsStoreModule {}
