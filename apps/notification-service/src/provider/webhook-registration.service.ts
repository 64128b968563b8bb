import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SmsProviderError } from '@app/sms-provider';
import { AppConfig } from '../config/app-config';
import { ProviderGateway } from './provider-gateway.service';

/**
 * With SMS_PROVIDER_REGISTER_WEBHOOK=true, registers our receiver with each provider account at
 * start, each at its own path (whose secret verifies what arrives there). The provider keys
 * registrations by URL, so every instance doing it on every boot is harmless. Sends carry the
 * same URL as callback_url anyway: registration is what makes status news reach us for messages
 * someone else's tooling sent on the account, and survives a lost callback_url.
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
    void this.registerAll();
  }

  /** The accounts registered, in order; an account that refused is left out (and logged). */
  async registerAll(): Promise<string[]> {
    const done: string[] = [];
    for (const account of this.gateway.accountNames()) {
      if (await this.register(account)) done.push(account);
    }
    return done;
  }

  async register(account: string): Promise<boolean> {
    try {
      const { url } = await this.gateway.registerWebhook(account, {
        events: ['message.sent', 'message.delivered', 'message.failed', 'message.expired'],
      });
      this.logger.log(`Registered the provider webhook of account ${account} at ${url}`);
      return true;
    } catch (error) {
      const reason = error instanceof SmsProviderError ? error.code : String(error);
      this.logger.warn(
        `Could not register the provider webhook of account ${account} (${reason}); relying on callback_url and polling`,
      );
      return false;
    }
  }
}
