import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import type { Principal } from '../auth/scopes';
import { ConflictError, NotFoundError, UnprocessableError } from '../common/errors/api-error';
import { parseInstant } from '../common/iso-instant';
import { raceTimeout } from '../common/race-timeout';
import { AppConfig } from '../config/app-config';
import {
  MessageLifecycleRepository,
  type StoredNewMessage,
} from '../delivery-status/message-lifecycle.repository';
import { DispatchService, type NewlyAccepted } from '../sending/dispatch.service';
import { TemplatesService } from '../templates/templates.service';
import { MetricsService } from '../metrics/metrics.service';
import type { Message } from '../delivery-status/entities/message.entity';
import type { MessageEvent } from '../delivery-status/entities/message-event.entity';
import { carriesCredentials, withoutCredentials } from './callback-url';
import type { Notification, Priority } from './entities/notification.entity';
import { type IntakeRecord, IntakeWriter } from './intake-writer';
import type {
  AcceptedNotification,
  CancelResult,
  ListNotificationsQuery,
  MessageView,
  NotificationView,
  SendNotificationDto,
} from './notifications.dto';
import { NotificationsRepository } from './notifications.repository';
import { checkRecipients, MAX_RECIPIENTS } from './recipients';
import { requestHash } from './request-hash';

const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** How long a duplicate request waits for the first one holding its key before getting a 409. */
const IDEMPOTENCY_WAIT_MS = 5000;
const PRIORITY_RANK: Record<Priority, number> = { high: 1, normal: 2, low: 3 };

@Injectable()
export class NotificationsService {
  private readonly logger = new Logger(NotificationsService.name);

  constructor(
    private readonly notifications: NotificationsRepository,
    private readonly lifecycle: MessageLifecycleRepository,
    private readonly templates: TemplatesService,
    private readonly dispatch: DispatchService,
    private readonly writer: IntakeWriter,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
  ) {}

  /**
   * Validates, renders and stores a request, then hands its due messages to the queue. The 202
   * goes out only after the commit: from then on the database alone is enough to finish the job.
   */
  async accept(
    principal: Principal,
    dto: SendNotificationDto,
    idempotencyKey: string | undefined,
  ): Promise<AcceptedNotification> {
    if (dto.callback_url !== undefined && carriesCredentials(dto.callback_url)) {
      // Said without the URL: repeating it would repeat the password.
      throw new UnprocessableError(
        'callback_url_credentials',
        'callback_url must not carry a user name or password (https://user:pass@host/): it is stored and shown in plain text. Verify callbacks by their signature, or put a secret in the path',
        { field: 'callback_url' },
      );
    }
    // Only a request with a key is ever compared with another.
    const hash = idempotencyKey ? requestHash(dto) : '';
    if (idempotencyKey) {
      const previous = await this.notifications.findIdempotency(principal.team, idempotencyKey);
      if (previous && previous.expiresAt > new Date() && previous.response) {
        return this.replay(previous.requestHash, hash, previous.response);
      }
    }

    const version = await this.templates.getActiveVersion(principal, dto.template);
    const { recipients, invalid } = checkRecipients(dto.to);
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
    const rendered = this.templates.render(version, dto.variables ?? {});

    const now = new Date();
    const scheduledAt = dto.scheduled_at ? parseInstant(dto.scheduled_at) : null;
    if (scheduledAt) checkScheduledAt(scheduledAt, now);
    // A time just past (clock skew, a slow caller) means "now": the request is accepted.
    const isScheduled = scheduledAt !== null && scheduledAt.getTime() > now.getTime();
    const expiresAt = dto.expires_at ? parseInstant(dto.expires_at) : null;
    if (expiresAt && expiresAt.getTime() <= Math.max(now.getTime(), scheduledAt?.getTime() ?? 0)) {
      throw new UnprocessableError(
        'invalid_expiry',
        'expires_at must be later than now and than scheduled_at',
      );
    }
    const priority = dto.priority ?? 'normal';
    const senderId = dto.from ?? version.senderId ?? null;
    const status = isScheduled ? 'scheduled' : 'pending';
    const nextAttemptAt = isScheduled ? scheduledAt : now;
    const notificationId = randomUUID();
    const record: IntakeRecord = {
      notification: {
        id: notificationId,
        team: principal.team,
        apiKeyId: principal.keyId,
        templateKey: version.templateKey,
        templateVersion: version.version,
        senderId,
        priority,
        scheduledAt: isScheduled ? scheduledAt : null,
        expiresAt,
        callbackUrl: dto.callback_url ?? null,
        reference: dto.reference ?? null,
        recipientCount: recipients.length,
      },
      messages: recipients.map((recipient) => ({
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
        scheduledAt: isScheduled ? scheduledAt : null,
        expiresAt,
        nextAttemptAt,
      })),
    };
    if (idempotencyKey) {
      const stored = await this.storeOnce(principal, idempotencyKey, hash, record);
      if ('replayed' in stored) return stored.replayed;
    } else {
      await this.writer.write(record);
    }

    this.metrics.notificationsAccepted.inc({ template: version.templateKey });
    this.metrics.messagesAccepted.inc(record.messages.length);
    // After the commit, and bounded: the rows are the promise, the queue only makes it fast. With
    // Redis down the enqueue would wait for reconnects (seconds) after the rows are committed,
    // and a caller that times out and retries without an Idempotency-Key would send twice; past
    // the bound the answer goes out and the sweeper enqueues the messages (job ids dedupe a late
    // enqueue that still lands).
    const enqueued = await raceTimeout(
      this.dispatch.dispatchNew(record.messages.map(toDispatched)).then(
        () => 'enqueued' as const,
        (error: unknown) => {
          this.logger.warn(`Enqueue after accept failed; the sweeper will retry: ${String(error)}`);
          return 'failed' as const;
        },
      ),
      ENQUEUE_BUDGET_MS,
    );
    if (enqueued === 'timeout') {
      this.logger.warn(
        `Enqueue after accept took over ${ENQUEUE_BUDGET_MS} ms; the sweeper will enqueue`,
      );
    }
    return toAccepted(record);
  }

  /**
   * A request with an Idempotency-Key, in a transaction of its own: inserting the key is the lock
   * a concurrent duplicate waits on, and the stored answer is what a repeat gets.
   */
  private async storeOnce(
    principal: Principal,
    idempotencyKey: string,
    hash: string,
    record: IntakeRecord,
  ): Promise<{ replayed: AcceptedNotification } | { stored: true }> {
    try {
      return await this.notifications.transaction(async (manager) => {
        await this.notifications.setLockTimeout(manager, IDEMPOTENCY_WAIT_MS);
        await this.notifications.deleteExpiredIdempotency(manager, principal.team, idempotencyKey);
        const idempotency = await this.notifications.insertIdempotency(manager, {
          team: principal.team,
          key: idempotencyKey,
          requestHash: hash,
          expiresAt: new Date(Date.now() + IDEMPOTENCY_TTL_MS),
        });
        await this.writer.insert(manager, [record]);
        const response = toAccepted(record);
        await this.notifications.completeIdempotency(
          manager,
          idempotency.id,
          record.notification.id,
          response as unknown as Record<string, unknown>,
        );
        return { stored: true as const };
      });
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === '23505') {
        // A concurrent request with the same key committed first: answer as it did.
        const winner = await this.notifications.findIdempotency(principal.team, idempotencyKey);
        if (winner?.response)
          return { replayed: this.replay(winner.requestHash, hash, winner.response) };
      }
      if (code === '55P03') {
        throw new ConflictError(
          'idempotency_in_progress',
          'A request with this Idempotency-Key is still being processed; retry shortly',
          undefined,
          { 'Retry-After': '1' },
        );
      }
      throw error;
    }
  }

  private replay(
    storedHash: string,
    hash: string,
    response: Record<string, unknown>,
  ): AcceptedNotification {
    if (storedHash !== hash) {
      throw new UnprocessableError(
        'idempotency_conflict',
        'This Idempotency-Key was used with a different request body',
      );
    }
    return response as unknown as AcceptedNotification;
  }

  async get(principal: Principal, id: string): Promise<NotificationView> {
    const notification = await this.findVisible(principal, id);
    const messages = await this.notifications.findMessages(notification.id);
    const events = await this.notifications.findEvents(messages.map((m) => m.id));
    const counts = await this.notifications.statusCounts([notification.id]);
    return toView(notification, messages, events, counts.get(notification.id) ?? {});
  }

  async list(
    principal: Principal,
    query: ListNotificationsQuery,
  ): Promise<{ data: Omit<NotificationView, 'messages'>[]; next_cursor: string | null }> {
    const limit = query.limit ? Number(query.limit) : 50;
    if (limit < 1 || limit > 200) {
      throw new UnprocessableError('invalid_limit', 'limit must be between 1 and 200');
    }
    const rows = await this.notifications.list({
      team: principal.isAdmin ? null : principal.team,
      status: query.status,
      template: query.template,
      reference: query.reference,
      since: query.since ? (parseInstant(query.since) ?? undefined) : undefined,
      until: query.until ? (parseInstant(query.until) ?? undefined) : undefined,
      after: query.cursor ? decodeCursor(query.cursor) : undefined,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const counts = await this.notifications.statusCounts(page.map((n) => n.id));
    const last = page[page.length - 1];
    return {
      data: page.map((n) => summary(n, counts.get(n.id) ?? {})),
      next_cursor: rows.length > limit && last ? encodeCursor(last) : null,
    };
  }

  async cancel(principal: Principal, id: string): Promise<CancelResult> {
    const notification = await this.findVisible(principal, id);
    const { changed: canceled } = await this.lifecycle.transition(
      { notificationId: notification.id, unclaimed: true },
      { to: 'canceled', source: 'api' },
    );
    const messages = await this.notifications.findMessages(notification.id);
    return {
      id: notification.id,
      canceled: canceled.length,
      messages: messages.map((m) => ({ id: m.id, to: m.recipient, status: m.status })),
    };
  }

  /** Another team's notification is reported as missing, not forbidden: ids don't leak. */
  private async findVisible(principal: Principal, id: string): Promise<Notification> {
    const notification = UUID.test(id) ? await this.notifications.findNotification(id) : null;
    if (!notification || (!principal.isAdmin && notification.team !== principal.team)) {
      throw new NotFoundError('notification_not_found', `No notification with id ${id}`);
    }
    return notification;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function toAccepted({ notification, messages }: IntakeRecord): AcceptedNotification {
  return {
    id: notification.id,
    status: notification.scheduledAt ? 'scheduled' : 'accepted',
    template: notification.templateKey,
    template_version: notification.templateVersion,
    scheduled_at: notification.scheduledAt?.toISOString() ?? null,
    messages: messages.map((m) => ({ id: m.id, to: m.recipient, status: m.status })),
  };
}

function toDispatched(m: StoredNewMessage): NewlyAccepted {
  return {
    id: m.id,
    dispatchSeq: 0,
    priority: m.priority,
    status: m.status,
    nextAttemptAt: m.nextAttemptAt,
  };
}

function iso(date: Date | null): string | null {
  return date ? date.toISOString() : null;
}

function summary(
  n: Notification,
  counts: Record<string, number>,
): Omit<NotificationView, 'messages'> {
  return {
    id: n.id,
    team: n.team,
    template: n.templateKey,
    template_version: n.templateVersion,
    from: n.senderId,
    priority: n.priority,
    reference: n.reference,
    // Rows stored before intake refused credentials never show them.
    callback_url: n.callbackUrl === null ? null : withoutCredentials(n.callbackUrl),
    scheduled_at: iso(n.scheduledAt),
    expires_at: iso(n.expiresAt),
    created_at: n.createdAt.toISOString(),
    status_counts: counts,
  };
}

function toView(
  n: Notification,
  messages: Message[],
  events: MessageEvent[],
  counts: Record<string, number>,
): NotificationView {
  const byMessage = new Map<string, MessageEvent[]>();
  for (const e of events) {
    const list = byMessage.get(e.messageId) ?? [];
    list.push(e);
    byMessage.set(e.messageId, list);
  }
  return {
    ...summary(n, counts),
    messages: messages.map((m) => toMessageView(m, byMessage.get(m.id) ?? [])),
  };
}

export function toMessageView(m: Message, events: MessageEvent[]): MessageView {
  return {
    id: m.id,
    to: m.recipient,
    status: m.status,
    provider_message_id: m.providerMessageId,
    error: m.errorCode ? { code: m.errorCode, message: m.errorMessage ?? m.errorCode } : null,
    attempts: m.attempts,
    segments: m.segments,
    encoding: m.encoding,
    characters: m.characters,
    credits_used: m.creditsUsed,
    submitted_at: m.submittedAt.toISOString(),
    queued_at: iso(m.queuedAt),
    sent_at: iso(m.sentAt),
    delivered_at: iso(m.deliveredAt),
    updated_at: m.updatedAt.toISOString(),
    events: events.map((e) => ({
      type: e.type,
      status: e.status,
      source: e.source,
      occurred_at: e.occurredAt.toISOString(),
      details: e.details,
    })),
  };
}

/** How long intake waits for the queue after committing before leaving the job to the sweeper. */
export const ENQUEUE_BUDGET_MS = 100;

/**
 * How far in the past `scheduled_at` may be and still mean "now": callers' clocks and queues
 * drift by seconds, not minutes. Further back it is a caller's bug (a stale retry, a wrong
 * zone) and sending at once would surprise them, so it is refused.
 */
export const SCHEDULE_PAST_TOLERANCE_MS = 5 * 60_000;
/** How far ahead a notification may be scheduled: a month's campaign plus a few days' slack. */
export const SCHEDULE_HORIZON_DAYS = 35;

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

function encodeCursor(n: Notification): string {
  return Buffer.from(JSON.stringify([n.createdAt.toISOString(), n.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    const createdAt = typeof at === 'string' ? parseInstant(at) : null;
    if (typeof id === 'string' && UUID.test(id) && createdAt !== null) {
      return { createdAt, id };
    }
  } catch {
    // fall through to the 422 below
  }
  throw new UnprocessableError('invalid_cursor', 'cursor is not one this API returned');
}
