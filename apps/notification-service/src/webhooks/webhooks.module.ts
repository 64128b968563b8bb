import { Module } from '@nestjs/common';
import { NotificationsStoreModule } from '../notifications/notifications-store.module';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

@Module({
  imports: [NotificationsStoreModule],
  controllers: [WebhooksController],
  providers: [WebhooksService],
})
export class WebhooksModule {}
