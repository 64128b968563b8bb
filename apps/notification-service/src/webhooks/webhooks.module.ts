import { Module } from '@nestjs/common';
import { NotificationsStoreModule } from '../notifications/notifications-store.module';
import { ProviderModule } from '../provider/provider.module';
import { WebhookRegistrationService } from '../provider/webhook-registration.service';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

@Module({
  imports: [NotificationsStoreModule, ProviderModule],
  controllers: [WebhooksController],
  providers: [WebhooksService, WebhookRegistrationService],
})
export class WebhooksModule {}
