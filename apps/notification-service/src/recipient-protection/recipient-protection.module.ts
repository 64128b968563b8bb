import { Module } from '@nestjs/common';
import { RecipientCap } from './recipient-cap.service';

/**
 * What protects the people receiving messages, for intake and the send path to use. Its
 * dependencies (AppConfig, REDIS, MetricsService) come from global modules.
 */
@Module({
  providers: [RecipientCap],
  exports: [RecipientCap],
})
export class RecipientProtectionModule {}
