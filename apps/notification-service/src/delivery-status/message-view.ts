import type { Message } from './message';

/** How a view hides what it must not show in full: each answer chooses, none maps twice. */
export interface Masking {
  phone(value: string): string;
  text(value: string): string;
}

/** For a caller's own notification, which names its recipients already. */
export const UNMASKED: Masking = { phone: (value) => value, text: (value) => value };

/** What every API answer about one message says of it, in its API form. */
export interface MessageCore {
  id: string;
  to: string;
  status: string;
  provider_message_id: string | null;
  error: { code: string; message: string } | null;
  attempts: number;
  segments: number;
  category: string;
  scheduled_at: string | null;
  expires_at: string | null;
  submitted_at: string;
  queued_at: string | null;
  delivered_at: string | null;
}

/**
 * The one mapping of a message row to the fields every message answer shares (a notification's
 * view, the message search, one message); each answer adds its own fields beside them.
 */
export function toMessageCore(m: Message, mask: Masking = UNMASKED): MessageCore {
  return {
    id: m.id,
    to: mask.phone(m.recipient),
    status: m.status,
    provider_message_id: m.providerMessageId,
    error: m.errorCode
      ? { code: m.errorCode, message: mask.text(m.errorMessage ?? m.errorCode) }
      : null,
    attempts: m.attempts,
    segments: m.segments,
    category: m.category,
    scheduled_at: iso(m.scheduledAt),
    expires_at: iso(m.expiresAt),
    submitted_at: m.submittedAt.toISOString(),
    queued_at: iso(m.queuedAt),
    delivered_at: iso(m.deliveredAt),
  };
}

export function iso(date: Date | null): string | null {
  return date ? date.toISOString() : null;
}
