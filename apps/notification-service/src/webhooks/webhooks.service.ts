import { Injectable, Logger } from '@nestjs/common';
import { verifyWebhookSignature } from '@app/sms-provider/helpers';
import { UnauthorizedError } from '../common/errors/api-error';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { ProviderUpdatesService } from '../delivery-status/provider-updates.service';

@Injectable()
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);

  constructor(
    private readonly updates: ProviderUpdatesService,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {}

  async receive(
    rawBody: Buffer | undefined,
    body: unknown,
    signature: unknown,
  ): Promise<{ received: true; outcome: string }> {
    const secret = this.config.provider.webhookSecret;
    // The raw bytes are what a correct signer signs; the provider's own recipe signs
    // JSON.stringify(payload), which differs when its serializer spaces or orders keys otherwise.
    const verified =
      verifyWebhookSignature(rawBody, signature, secret) ||
      (body !== undefined && verifyWebhookSignature(JSON.stringify(body), signature, secret));
    if (!verified) {
      this.metrics.webhooks.inc({ outcome: 'rejected' });
      throw new UnauthorizedError(
        'Missing or invalid X-SMSProvider-Signature',
        'invalid_signature',
      );
    }
    const outcome = await this.updates.apply(body, 'webhook');
    this.metrics.webhooks.inc({ outcome });
    // Signed but not something we can use: acknowledge so the provider doesn't retry it forever.
    if (outcome === 'ignored')
      this.logger.warn('Ignored a signed webhook without message_id/status');
    return { received: true, outcome };
  }
}
