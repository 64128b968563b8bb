import { Module } from '@nestjs/common';
import { DeliveryStatusModule } from '../delivery-status/delivery-status.module';
import { RecipientProtectionModule } from '../recipient-protection/recipient-protection.module';
import { SendQueueModule } from '../sending/send-queue.module';
import { SuppressionsStoreModule } from '../suppressions/suppressions-store.module';
import { TeamsStoreModule } from '../teams/teams-store.module';
import { TemplatesModule } from '../templates/templates.module';
import { NotificationsStoreModule } from './notifications-store.module';
import { NotificationsController } from './notifications.controller';
import { IntakeWriter } from './intake-writer';
import { IdempotencyPurge } from './idempotency-purge.service';
import { NotificationsService } from './notifications.service';
import { TemplateTestsController } from './template-tests.controller';

@Module({
  imports: [
    NotificationsStoreModule,
    DeliveryStatusModule,
    TemplatesModule,
    SendQueueModule,
    SuppressionsStoreModule,
    RecipientProtectionModule,
    TeamsStoreModule,
  ],
  controllers: [NotificationsController, TemplateTestsController],
  providers: [NotificationsService, IntakeWriter, IdempotencyPurge],
})
export class NotificationsModule {}
