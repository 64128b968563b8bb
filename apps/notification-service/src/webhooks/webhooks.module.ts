import { Module } from '@nestjs/common';
import { DeliveryStatusModule } from '../delivery-status/delivery-status.module';
import { TraceLinks } from '../tracing/trace-links.service';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

/** The HTTP edge for the provider's status events: verify, then hand them to delivery-status. */
@Module({
  imports: [DeliveryStatusModule],
  controllers: [WebhooksController],
  providers: [WebhooksService, TraceLinks],
})
export class WebhooksModule {}
