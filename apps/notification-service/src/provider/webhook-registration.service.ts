import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SmsProviderError } from '@app/sms-provider';
import { AppConfig } from '../config/app-config';
import { ProviderGateway } from './provider-gateway.service';

/**
 * With SMS_PROVIDER_REGISTER_WEBHOOK=true, registers our receiver with the provider at start.
 * The provider keys registrations by URL, so every instance doing it on every boot is harmless.
 * Sends carry the same URL as callback_url anyway: registration is what makes status news reach
 * us for messages someone else's tooling sent on our account, and survives a lost callback_url.
 */
@Injectable()
export class WebhookRegistrationService implements OnApplicationBootstrap {
  private readonly logger = new Logger(WebhookRegistrationService.name);

  constructor(
    private readonly gateway: ProviderGateway,
    private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    // Only an instance that receives webhooks announces the address.
    if (!this.config.provider.registerWebhook || !this.config.runsApi) return;
    // Not awaited: start-up must not hang on the provider; a failure is logged, not fatal.
    void this.register();
  }

  async register(): Promise<boolean> {
    const url = this.config.provider.callbackUrl;
    try {
      await this.gateway.registerWebhook({
        url,
        events: ['message.sent', 'message.delivered', 'message.failed', 'message.expired'],
      });
      this.logger.log(`Registered the provider webhook at ${url}`);
      return true;
    } catch (error) {
      const reason = error instanceof SmsProviderError ? error.code : String(error);
      this.logger.warn(
        `Could not register the provider webhook (${reason}); relying on callback_url and polling`,
      );
      return false;
    }
  }
}
