import { HttpModule } from '@nestjs/axios';
import { Module } from '@nestjs/common';
import { ProviderGateway } from './provider-gateway.service';
import { WebhookRegistrationService } from './webhook-registration.service';

/**
 * The provider library's client, one per configured account, behind the throttled gateway:
 * every provider call of the service (sends, polls, account, webhook registration) takes its
 * slot there.
 */
@Module({
  // Its own axios instance: interceptors other code installs on the global axios default can
  // neither see nor alter our authenticated requests.
  imports: [HttpModule.register({})],
  providers: [ProviderGateway, WebhookRegistrationService],
  exports: [ProviderGateway],
})
export class ProviderModule {}
