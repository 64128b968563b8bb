import { Module } from '@nestjs/common';
import { SendQueueModule } from '../sending/send-queue.module';
import { TemplatesModule } from '../templates/templates.module';
import { NotificationsStoreModule } from './notifications-store.module';
import { NotificationsController } from './notifications.controller';
import { NotificationsService } from './notifications.service';

@Module({
  imports: [NotificationsStoreModule, TemplatesModule, SendQueueModule],
  controllers: [NotificationsController],
  providers: [NotificationsService],
})
export class NotificationsModule {}
