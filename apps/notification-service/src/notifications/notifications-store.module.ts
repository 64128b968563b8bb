import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IdempotencyRecord } from './entities/idempotency-record.entity';
import { Notification } from './entities/notification.entity';
import { NotificationsRepository } from './notifications.repository';

/** Data access to notifications, their idempotency records and the views of their messages. */
@Module({
  imports: [TypeOrmModule.forFeature([Notification, IdempotencyRecord])],
  providers: [NotificationsRepository],
  exports: [NotificationsRepository],
})
export class NotificationsStoreModule {}
