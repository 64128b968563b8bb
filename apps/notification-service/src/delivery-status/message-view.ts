import { MESSAGE_CATEGORIES } from '../common/message-category';
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
  provider_account: string | null;
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
    provider_account: m.providerAccount,
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

/**
 * The OpenAPI description of the MessageCore fields recipient protection added, for each answer's
 * class (`@ApiProperty(MESSAGE_FIELD_DOCS.category)`), so the answers describe them alike.
 */
export const MESSAGE_FIELD_DOCS = {
  provider_account: {
    nullable: true,
    type: String,
    description:
      'The provider account (SMS_PROVIDER_ACCOUNTS) that took the message; null until one did, and on messages sent before accounts were kept',
  },
  category: { enum: MESSAGE_CATEGORIES, description: 'Frozen from the template version' },
  scheduled_at: {
    nullable: true,
    type: String,
    description:
      "When it was due if not at once: the request's scheduled_at, or the end of the recipient's quiet hours it was held to",
  },
  expires_at: {
    nullable: true,
    type: String,
    description:
      "Until when it may still be handed to the provider: its category's validity from when it is due, or the request's earlier expires_at; past it the message ends expired (validity_elapsed)",
  },
} as const;

export function iso(date: Date | null): string | null {
  return date ? date.toISOString() : null;
}
