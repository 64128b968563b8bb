import { withinRange } from '../common/iso-instant';
import type { MessageStatus } from './message-status';

const PROVIDER_TO_MESSAGE: Record<string, MessageStatus> = {
  queued: 'queued',
  sent: 'sent',
  delivered: 'delivered',
  failed: 'failed',
  expired: 'expired',
};

/** The provider's status words (any case, as documented in Title case) to ours; null if unknown. */
export function toMessageStatus(providerStatus: unknown): MessageStatus | null {
  if (typeof providerStatus !== 'string') return null;
  return PROVIDER_TO_MESSAGE[providerStatus.trim().toLowerCase()] ?? null;
}

export interface ProviderStatusUpdate {
  providerMessageId: string;
  status: MessageStatus;
  occurredAt: Date;
  sentAt: Date | null;
  deliveredAt: Date | null;
  errorCode: string | null;
  errorMessage: string | null;
}

function date(value: unknown): Date | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const d = typeof value === 'number' ? new Date(value * 1000) : new Date(value);
  // A time PostgreSQL or our readers can't take (-8.64e12 s) is no time at all.
  return withinRange(d);
}

/**
 * Reads a webhook payload or a GET /messages/{id} answer into one update; null when it doesn't
 * name a message and a status we know.
 */
export function parseProviderUpdate(body: unknown): ProviderStatusUpdate | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const b = body as Record<string, unknown>;
  const id = b.message_id;
  const status = toMessageStatus(
    b.status ?? (typeof b.event === 'string' ? b.event.replace(/^message\./, '') : undefined),
  );
  if (typeof id !== 'string' || id.length === 0 || id.length > 200 || !status) return null;
  const sentAt = date(b.sent_at);
  const deliveredAt = date(b.delivered_at);
  const error =
    typeof b.error === 'object' && b.error !== null ? (b.error as Record<string, unknown>) : null;
  return {
    providerMessageId: id,
    status,
    occurredAt:
      (status === 'delivered' ? deliveredAt : null) ??
      (status === 'sent' ? sentAt : null) ??
      date(b.timestamp) ??
      new Date(),
    sentAt,
    deliveredAt,
    errorCode:
      typeof error?.code === 'string'
        ? error.code
        : status === 'failed' || status === 'expired'
          ? `provider_${status}`
          : null,
    errorMessage: typeof error?.message === 'string' ? error.message.slice(0, 500) : null,
  };
}
