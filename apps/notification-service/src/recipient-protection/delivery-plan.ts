import type { AppConfig } from '../config/app-config';
import {
  type MessageCategory,
  SUPPRESSED_BY,
  type SuppressionScope,
} from '../common/message-category';
import { RECIPIENT_SUPPRESSED } from '../common/recipient-error-codes';
import { quietUntil } from './quiet-hours';
import { recipientTimezone } from './recipient-timezone';

type Protection = AppConfig['protection'];

/** What intake knows of one recipient of a request when it plans the message. */
export interface PlanInput {
  recipient: string;
  category: MessageCategory;
  /** When the caller wants it sent: `scheduled_at`, or now. */
  due: Date;
  /** The request's `scheduled_at` was in the future. */
  scheduled: boolean;
  /** The request's own `expires_at`, if any. */
  requestedExpiry: Date | null;
  /** The request's `timezone` (already checked to be a known IANA name). */
  requestedTimezone: string | undefined;
  /** The recipient's live suppression entries. */
  suppressedScopes: ReadonlySet<SuppressionScope> | undefined;
}

/**
 * The end of quiet hours per zone for one request (one category, one due time): its recipients
 * share a handful of zones, so each is worked out once rather than per recipient.
 */
export type QuietEnds = Map<string, Date | null>;

/** How one message is stored: when it goes and until when, or why it never will. */
export interface DeliveryPlan {
  status: 'pending' | 'scheduled' | 'failed';
  /** Set when the message waits for a time: the caller's, or the end of quiet hours. */
  scheduledAt: Date | null;
  nextAttemptAt: Date;
  expiresAt: Date;
  /** The recipient's zone, kept on the message when its category has quiet hours. */
  timezone: string | null;
  error?: { code: string; message: string };
  deferred?: { reason: 'quiet_hours'; until: Date; timezone: string };
}

/**
 * The recipient-protection rules a new message meets at intake, in their order: the suppression
 * list stops it; quiet hours in the recipient's zone move it to the window's end; its validity
 * counts from when it is due (after any deferral), capped by the request's own `expires_at`.
 * (The per-number cap needs Redis and is applied after this plan, to messages due now.)
 */
export function planDelivery(
  input: PlanInput,
  protection: Protection,
  quietEnds: QuietEnds = new Map(),
): DeliveryPlan {
  const scopes = input.suppressedScopes;
  const suppressedBy = scopes && SUPPRESSED_BY[input.category].find((scope) => scopes.has(scope));
  const window = protection.quietHours[input.category];
  const timezone =
    window === null
      ? null
      : recipientTimezone(input.recipient, input.requestedTimezone, protection.defaultTimezone);
  let until: Date | null = null;
  if (window !== null && timezone !== null) {
    const known = quietEnds.get(timezone);
    until = known === undefined ? quietUntil(input.due, window, timezone) : known;
    quietEnds.set(timezone, until);
  }
  const due = until ?? input.due;
  const expiresAt = earlier(
    new Date(due.getTime() + protection.validityMs[input.category]),
    input.requestedExpiry,
  );
  if (suppressedBy !== undefined) {
    return {
      status: 'failed',
      scheduledAt: input.scheduled ? input.due : null,
      nextAttemptAt: input.due,
      expiresAt,
      timezone,
      error: {
        code: RECIPIENT_SUPPRESSED,
        message: `The recipient is on the suppression list (scope ${suppressedBy}) for ${input.category} messages`,
      },
    };
  }
  const waits = input.scheduled || until !== null;
  return {
    status: waits ? 'scheduled' : 'pending',
    scheduledAt: waits ? due : null,
    nextAttemptAt: due,
    expiresAt,
    timezone,
    ...(until !== null && timezone !== null
      ? { deferred: { reason: 'quiet_hours' as const, until, timezone } }
      : {}),
  };
}

function earlier(a: Date, b: Date | null): Date {
  return b !== null && b.getTime() < a.getTime() ? b : a;
}
