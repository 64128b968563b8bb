import { Module } from '@nestjs/common';
import { SmsProviderModule } from '@app/sms-provider';
import { AppConfig } from '../config/app-config';
import { ProviderGateway } from './provider-gateway.service';
import { WebhookRegistrationService } from './webhook-registration.service';

/**
 * The provider library configured from AppConfig, behind the throttled gateway: every provider
 * call of the service (sends, polls, account, webhook registration) takes its slot there.
 */
@Module({
  imports: [
    SmsProviderModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        baseUrl: config.provider.baseUrl,
        apiKey: config.provider.apiKey,
        timeoutMs: config.provider.timeoutMs,
        // Every request has to pass the shared throttle, and a retry inside the library would not:
        // a failed poll is simply tried again on the reconciler's next round.
        getRetries: 0,
      }),
    }),
  ],
  providers: [ProviderGateway, WebhookRegistrationService],
  exports: [ProviderGateway],
})
export class ProviderModule {}
