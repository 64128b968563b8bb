import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IdempotencyRecord } from './entities/idempotency-record.entity';
import { MessageEvent } from './entities/message-event.entity';
import { Message } from './entities/message.entity';
import { Notification } from './entities/notification.entity';
import { MessagesRepository } from './messages.repository';
import { NotificationsRepository } from './notifications.repository';
import { ProviderEventsRepository } from '../delivery-status/provider-events.repository';
import { ProviderUpdatesService } from '../delivery-status/provider-updates.service';

/**
 * Data access to notifications and messages, and the application of provider status news to
 * them: shared by the API (webhooks), the send worker and the reconciler.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Notification, Message, MessageEvent, IdempotencyRecord])],
  providers: [
    NotificationsRepository,
    MessagesRepository,
    ProviderEventsRepository,
    ProviderUpdatesService,
  ],
  exports: [NotificationsRepository, MessagesRepository, ProviderUpdatesService],
})
export class NotificationsStoreModule {}
