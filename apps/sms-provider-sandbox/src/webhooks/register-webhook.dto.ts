import { HttpStatus } from '@nestjs/common';
import type { WebhookEventType } from '@app/sms-provider';
import { parseHttpUrl } from '../common/parse-http-url';
import { invalidParameter, missingParameter, SandboxError } from '../common/sandbox-error';
import { DEFAULT_WEBHOOK_EVENTS, WEBHOOK_EVENTS } from './webhook-events';

export interface RegisterWebhookCommand {
  url: string;
  events: WebhookEventType[];
}

export function parseRegisterWebhook(body: unknown): RegisterWebhookCommand {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new SandboxError(
      HttpStatus.BAD_REQUEST,
      'invalid_request',
      'The request body must be a JSON object',
    );
  }
  const { url, events } = body as Record<string, unknown>;
  if (url === undefined || url === null) throw missingParameter('url');
  const parsedUrl = parseHttpUrl('url', url);
  if (events === undefined || events === null) {
    return { url: parsedUrl, events: [...DEFAULT_WEBHOOK_EVENTS] };
  }
  if (!Array.isArray(events) || events.length === 0) {
    throw invalidParameter('events', `must be a non-empty array of: ${WEBHOOK_EVENTS.join(', ')}`);
  }
  for (const event of events) {
    if (!WEBHOOK_EVENTS.includes(event as WebhookEventType)) {
      throw invalidParameter(
        'events',
        `has unknown event ${JSON.stringify(event)}; use ${WEBHOOK_EVENTS.join(', ')}`,
      );
    }
  }
  return { url: parsedUrl, events: [...new Set(events as WebhookEventType[])] };
}
