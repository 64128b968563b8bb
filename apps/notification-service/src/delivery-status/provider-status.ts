import { withinRange } from '../common/iso-instant';
import type { MessageStatus } from './message-status';
import { boundedText, storedErrorCode } from './provider-error-code';

/** The longest provider message id we take (ours are ~20 characters). */
const MAX_PROVIDER_ID_LENGTH = 200;
/** The longest recipient we read from provider news (E.164 is at most 16 characters). */
const MAX_RECIPIENT_LENGTH = 32;
/** Recipients read from one poll answer at most: a request carries at most SEND_BATCH_MAX. */
const MAX_RECIPIENTS_PER_ANSWER = 1000;

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
  /** The recipient the news is about (`to`); null when it names none. */
  recipient: string | null;
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

function recipientOf(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_RECIPIENT_LENGTH
    ? value
    : null;
}

/**
 * Reads a GET /messages/{id} answer into an update per recipient: one request to many numbers
 * has one id and a status per recipient (`recipients`); without that list, the answer itself is
 * the one recipient's news. Empty when it names no message and status we know.
 */
export function parsePollAnswer(body: unknown): ProviderStatusUpdate[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return [];
  const b = body as Record<string, unknown>;
  if (!Array.isArray(b.recipients) || b.recipients.length === 0) {
    const single = parseProviderUpdate(body);
    return single ? [single] : [];
  }
  const updates: ProviderStatusUpdate[] = [];
  for (const entry of b.recipients.slice(0, MAX_RECIPIENTS_PER_ANSWER)) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) continue;
    const update = parseProviderUpdate({ ...(entry as object), message_id: b.message_id });
    if (update?.recipient) updates.push(update);
  }
  return updates;
}

/**
 * Reads a webhook payload (or one recipient of a poll answer) into one update; null when it
 * doesn't name a message and a status we know.
 */
export function parseProviderUpdate(body: unknown): ProviderStatusUpdate | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  const b = body as Record<string, unknown>;
  const id = b.message_id;
  const status = toMessageStatus(
    b.status ?? (typeof b.event === 'string' ? b.event.replace(/^message\./, '') : undefined),
  );
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_PROVIDER_ID_LENGTH || !status)
    return null;
  const sentAt = date(b.sent_at);
  const deliveredAt = date(b.delivered_at);
  const error =
    typeof b.error === 'object' && b.error !== null ? (b.error as Record<string, unknown>) : null;
  return {
    providerMessageId: id,
    recipient: recipientOf(b.to),
    status,
    occurredAt:
      (status === 'delivered' ? deliveredAt : null) ??
      (status === 'sent' ? sentAt : null) ??
      date(b.timestamp) ??
      new Date(),
    sentAt,
    deliveredAt,
    // The code is bounded here, before it is stored, returned or parked (see storedErrorCode).
    errorCode:
      (typeof error?.code === 'string' ? storedErrorCode(error.code) : null) ??
      (status === 'failed' || status === 'expired' ? `provider_${status}` : null),
    errorMessage: typeof error?.message === 'string' ? boundedText(error.message) : null,
  };
}

/**
 * What is parked of an event for a message we don't know yet: only the fields an update is made
 * of, each already bounded, in the webhook's own shape so that parseProviderUpdate reads it back
 * as the same update.
 */
export interface ParkedPayload {
  message_id: string;
  /** Absent in events parked before batches. */
  to?: string | null;
  status: MessageStatus;
  timestamp: string;
  sent_at: string | null;
  delivered_at: string | null;
  error: { code: string; message: string | null } | null;
}

export function toParkedPayload(update: ProviderStatusUpdate): ParkedPayload {
  return {
    message_id: update.providerMessageId,
    to: update.recipient,
    status: update.status,
    timestamp: update.occurredAt.toISOString(),
    sent_at: update.sentAt?.toISOString() ?? null,
    delivered_at: update.deliveredAt?.toISOString() ?? null,
    error: update.errorCode ? { code: update.errorCode, message: update.errorMessage } : null,
  };
}
