import { Injectable, Logger } from '@nestjs/common';
import { verifyWebhookSignature } from '@app/sms-provider/helpers';
import { NotFoundError, UnauthorizedError } from '../common/errors/api-error';
import { parseJsonBody } from '../common/http/request-rules';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { ProviderUpdatesService } from '../delivery-status/provider-updates.service';
import { runInLinkedSpan } from '../tracing/job-trace';
import { TraceLinks } from '../tracing/trace-links.service';

/**
 * The second, re-serialized check parses an unauthenticated body: only for bodies the size of a
 * real event, so a wrong signature costs a large body one HMAC and nothing more.
 */
export const RESERIALIZED_CHECK_MAX_BYTES = 16 * 1024;

@Injectable()
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);

  constructor(
    private readonly updates: ProviderUpdatesService,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
    private readonly traceLinks: TraceLinks,
  ) {}

  /**
   * Checks the signature on the raw bytes before anything parses them; only a signed body is
   * parsed (under the common request rules: depth, characters), so an unauthenticated caller can
   * cost us no more than one HMAC over at most the body limit (plus one parse of a body under
   * RESERIALIZED_CHECK_MAX_BYTES). The header's form and the declared length were checked before
   * the body was read (webhook-gate.ts).
   */
  async receive(
    rawBody: Buffer | undefined,
    signature: unknown,
    account: string = this.config.legacyWebhookAccount.name,
  ): Promise<{ received: true; outcome: string }> {
    // Each account signs with its own secret: an event is only believed at its account's path.
    const secret = this.config.provider.accounts.find((a) => a.name === account)?.webhookSecret;
    if (secret === undefined) {
      this.metrics.webhooks.inc({ outcome: 'rejected' });
      throw new NotFoundError(
        'provider_account_not_found',
        `No provider account named ${account} is configured`,
      );
    }
    let body: unknown;
    // The raw bytes are what a correct signer signs; the provider's own recipe signs
    // JSON.stringify(payload), which differs when its serializer spaces or orders keys otherwise,
    // so when the bytes don't match the re-serialized body is tried: parsing first is bounded by
    // the same rules, and a body that breaks them is simply not signed.
    let verified = verifyWebhookSignature(rawBody, signature, secret);
    if (
      !verified &&
      rawBody !== undefined &&
      rawBody.length <= RESERIALIZED_CHECK_MAX_BYTES &&
      typeof signature === 'string'
    ) {
      try {
        body = parseJsonBody(rawBody);
        verified =
          body !== undefined && verifyWebhookSignature(JSON.stringify(body), signature, secret);
      } catch {
        verified = false;
      }
    }
    if (!verified) {
      this.metrics.webhooks.inc({ outcome: 'rejected' });
      throw new UnauthorizedError(
        'Missing or invalid X-SMSProvider-Signature',
        'invalid_signature',
      );
    }
    // A signed body that breaks the rules (NUL in a field, too deep) is a 400 like any other.
    if (body === undefined && rawBody !== undefined) body = parseJsonBody(rawBody);
    const providerMessageId = (body as { message_id?: unknown } | null)?.message_id;
    const outcome = await runInLinkedSpan(
      'provider webhook',
      await this.traceLinks.recall(providerMessageId),
      typeof providerMessageId === 'string' ? { provider_message_id: providerMessageId } : {},
      () => this.updates.apply(body, 'webhook'),
    );
    this.metrics.webhooks.inc({ outcome });
    // Signed but not something we can use: acknowledge so the provider doesn't retry it forever.
    if (outcome === 'ignored')
      this.logger.warn('Ignored a signed webhook without message_id/status');
    return { received: true, outcome };
  }
}
