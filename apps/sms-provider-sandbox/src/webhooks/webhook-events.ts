import type { ProviderMessageStatus, WebhookEventType } from '@app/sms-provider';

export const WEBHOOK_EVENTS: readonly WebhookEventType[] = [
  'message.queued',
  'message.sent',
  'message.delivered',
  'message.failed',
  'message.expired',
];

/**
 * What a registration without `events` subscribes to: every change the sandbox announces.
 * message.queued is accepted for compatibility but never fires (the send response says queued).
 */
export const DEFAULT_WEBHOOK_EVENTS: readonly WebhookEventType[] = [
  'message.sent',
  'message.delivered',
  'message.failed',
  'message.expired',
];

export function eventFor(status: ProviderMessageStatus): WebhookEventType {
  return `message.${status}`;
}
