import { randomUUID } from 'node:crypto';
import type { Principal } from '../auth/scopes';
import { BadRequestError, UnprocessableError } from '../common/errors/api-error';
import type { SuppressionScope } from '../common/message-category';
import { RECIPIENT_RATE_LIMITED } from '../common/recipient-error-codes';
import type { AppConfig } from '../config/app-config';
import type { StoredNewMessage } from '../delivery-status/message-lifecycle.repository';
import { planDelivery, type QuietEnds } from '../recipient-protection/delivery-plan';
import { isKnownTimezone } from '../recipient-protection/recipient-timezone';
import { parseInstant } from '../common/iso-instant';
import type { RenderedMessage } from '../templates/template-renderer';
import type { ActiveTemplateVersion } from '../templates/templates.service';
import { carriesCredentials } from './callback-url';
import type { Priority } from './entities/notification.entity';
import type { IntakeRecord } from './intake-writer';
import type { AcceptedNotification, SendNotificationDto } from './notifications.dto';
import { checkRecipients, MAX_RECIPIENTS } from './recipients';

/*
 * The pure steps of intake (notifications.service.ts `accept`): what a request may say, and the
 * record of rows it becomes. Nothing here reads or writes storage.
 */

const PRIORITY_RANK: Record<Priority, number> = { high: 1, normal: 2, low: 3 };

/**
 * How far in the past `scheduled_at` may be and still mean "now": callers' clocks and queues
 * drift by seconds, not minutes. Further back it is a caller's bug (a stale retry, a wrong
 * zone) and sending at once would surprise them, so it is refused.
 */
export const SCHEDULE_PAST_TOLERANCE_MS = 5 * 60_000;
/** How far ahead a notification may be scheduled: a month's campaign plus a few days' slack. */
export const SCHEDULE_HORIZON_DAYS = 35;

/** When a request's messages are due and until when they may go. */
export interface Timing {
  /** A time in the future; null for "now" (none given, or one just past). */
  scheduledAt: Date | null;
  expiresAt: Date | null;
  /** When the first attempt is due: scheduledAt, or now. */
  nextAttemptAt: Date;
}

/** What a validated request brings to its record. */
export interface ValidatedRequest {
  version: ActiveTemplateVersion;
  recipients: string[];
  rendered: RenderedMessage;
  timing: Timing;
  /** The live suppression entries of those recipients that have any. */
  suppressions: ReadonlyMap<string, ReadonlySet<SuppressionScope>>;
  /** A template's test send (templates API), marked on the notification. */
  test?: boolean;
}

/** 400 `invalid_timezone` for a `timezone` that is no IANA zone name the service knows. */
export function checkTimezone(dto: SendNotificationDto): void {
  if (dto.timezone !== undefined && !isKnownTimezone(dto.timezone)) {
    throw new BadRequestError(
      `timezone must be an IANA time zone name such as Europe/Berlin or America/New_York, got "${dto.timezone.slice(0, 64)}"`,
      { field: 'timezone' },
      'invalid_timezone',
    );
  }
}

/** 422 `callback_url_credentials` for a callback URL with a user name or password. */
export function checkCallbackUrl(dto: SendNotificationDto): void {
  if (dto.callback_url !== undefined && carriesCredentials(dto.callback_url)) {
    // Said without the URL: repeating it would repeat the password.
    throw new UnprocessableError(
      'callback_url_credentials',
      'callback_url must not carry a user name or password (https://user:pass@host/): it is stored and shown in plain text. Verify callbacks by their signature, or put a secret in the path',
      { field: 'callback_url' },
    );
  }
}

/** The distinct E.164 recipients; 422 `invalid_phone_number` or `too_many_recipients`. */
export function checkedRecipients(to: SendNotificationDto['to']): string[] {
  const { recipients, invalid } = checkRecipients(to);
  if (invalid.length > 0) {
    throw new UnprocessableError(
      'invalid_phone_number',
      `Not valid E.164 phone numbers: ${invalid.slice(0, 10).join(', ')}${invalid.length > 10 ? ', …' : ''}`,
      { invalid },
    );
  }
  if (recipients.length > MAX_RECIPIENTS) {
    throw new UnprocessableError(
      'too_many_recipients',
      `At most ${MAX_RECIPIENTS} distinct recipients per request, got ${recipients.length}`,
      { max: MAX_RECIPIENTS, received: recipients.length },
    );
  }
  return recipients;
}

/**
 * The request's timing at `now`; 422 `scheduled_at_in_past`, `scheduled_at_too_far` or
 * `invalid_expiry`.
 */
export function resolveTiming(dto: SendNotificationDto, now: Date): Timing {
  const requested = dto.scheduled_at ? parseInstant(dto.scheduled_at) : null;
  if (requested) checkScheduledAt(requested, now);
  // A time just past (clock skew, a slow caller) means "now": the request is accepted.
  const scheduledAt = requested !== null && requested.getTime() > now.getTime() ? requested : null;
  const expiresAt = dto.expires_at ? parseInstant(dto.expires_at) : null;
  if (expiresAt && expiresAt.getTime() <= Math.max(now.getTime(), requested?.getTime() ?? 0)) {
    throw new UnprocessableError(
      'invalid_expiry',
      'expires_at must be later than now and than scheduled_at',
    );
  }
  return { scheduledAt, expiresAt, nextAttemptAt: scheduledAt ?? now };
}

function checkScheduledAt(scheduledAt: Date, now: Date): void {
  if (scheduledAt.getTime() < now.getTime() - SCHEDULE_PAST_TOLERANCE_MS) {
    throw new UnprocessableError(
      'scheduled_at_in_past',
      `scheduled_at is more than ${SCHEDULE_PAST_TOLERANCE_MS / 60_000} minutes in the past`,
      { scheduled_at: scheduledAt.toISOString(), now: now.toISOString() },
    );
  }
  const horizon = now.getTime() + SCHEDULE_HORIZON_DAYS * 86_400_000;
  if (scheduledAt.getTime() > horizon) {
    throw new UnprocessableError(
      'scheduled_at_too_far',
      `scheduled_at is more than ${SCHEDULE_HORIZON_DAYS} days ahead`,
      { max: new Date(horizon).toISOString() },
    );
  }
}

/**
 * The rows a validated request becomes: its notification and one message per recipient, each
 * planned by the recipient-protection rules (planDelivery).
 */
export function buildIntakeRecord(
  principal: Principal,
  dto: SendNotificationDto,
  { version, recipients, rendered, timing, suppressions, test }: ValidatedRequest,
  protection: AppConfig['protection'],
  now: Date,
): IntakeRecord {
  const priority = dto.priority ?? 'normal';
  const senderId = dto.from ?? version.senderId ?? null;
  const notificationId = randomUUID();
  const quietEnds: QuietEnds = new Map();
  const plan = (recipient: string) =>
    planDelivery(
      {
        recipient,
        category: version.category,
        due: timing.scheduledAt ?? now,
        scheduled: timing.scheduledAt !== null,
        requestedExpiry: timing.expiresAt,
        requestedTimezone: dto.timezone,
        suppressedScopes: suppressions.get(recipient),
      },
      protection,
      quietEnds,
    );
  return {
    notification: {
      id: notificationId,
      team: principal.team,
      apiKeyId: principal.keyId,
      templateKey: version.templateKey,
      templateVersion: version.version,
      senderId,
      priority,
      scheduledAt: timing.scheduledAt,
      expiresAt: timing.expiresAt,
      callbackUrl: dto.callback_url ?? null,
      reference: dto.reference ?? null,
      recipientCount: recipients.length,
      test: test ?? false,
    },
    messages: recipients.map((recipient) => {
      const { status, scheduledAt, nextAttemptAt, expiresAt, timezone, error, deferred } =
        plan(recipient);
      return {
        id: randomUUID(),
        notificationId,
        recipient,
        body: rendered.text,
        senderId,
        characters: rendered.characters,
        encoding: rendered.encoding,
        segments: rendered.segments,
        status,
        priority: PRIORITY_RANK[priority],
        scheduledAt,
        expiresAt,
        nextAttemptAt,
        category: version.category,
        timezone,
        team: principal.team,
        ...(error ? { error } : {}),
        ...(deferred ? { deferred } : {}),
        ...(test ? { test: true } : {}),
      };
    }),
  };
}

/**
 * Fails the messages the per-number cap refused (`allowed[i]` false for `messages[i]`): over
 * the cap for their category, they are never sent.
 */
export function refuseOverCap(
  messages: StoredNewMessage[],
  allowed: readonly boolean[],
  caps: AppConfig['protection']['caps'],
): void {
  messages.forEach((m, i) => {
    if (allowed[i] !== false) return;
    const cap = caps[m.category];
    m.status = 'failed';
    m.error = {
      code: RECIPIENT_RATE_LIMITED,
      message: cap
        ? `The recipient already had ${cap.limit} ${m.category} message(s) in ${describeWindow(cap.windowMs)}`
        : `The recipient is over its ${m.category} cap`,
    };
  });
}

function describeWindow(ms: number): string {
  const hours = ms / 3_600_000;
  return Number.isInteger(hours) ? `${hours} h` : `${Math.round(ms / 60_000)} min`;
}

/** The 202 answer for a stored record (also what a repeat with its Idempotency-Key gets). */
export function toAccepted({ notification, messages }: IntakeRecord): AcceptedNotification {
  return {
    id: notification.id,
    status: notification.scheduledAt ? 'scheduled' : 'accepted',
    template: notification.templateKey,
    template_version: notification.templateVersion,
    scheduled_at: notification.scheduledAt?.toISOString() ?? null,
    messages: messages.map((m) => ({
      id: m.id,
      to: m.recipient,
      status: m.status,
      category: m.category,
      scheduled_at: m.scheduledAt?.toISOString() ?? null,
      expires_at: m.expiresAt?.toISOString() ?? null,
      error: m.error ?? null,
    })),
  };
}
