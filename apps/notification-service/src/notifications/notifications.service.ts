import {
  type CursorPosition,
  decodeCursor,
  LIST_LIMITS,
  pageLimit,
  toPage,
} from '../common/pagination';
import { isUuid } from '../common/uuid';
import { SUPPRESSED_BY, type SuppressionScope } from '../common/message-category';
import { RecipientCap } from '../recipient-protection/recipient-cap.service';
import { SuppressionLookupRepository } from '../suppressions/suppression-lookup.repository';
import { TeamBacklog } from '../teams/team-backlog';
import { TeamBudgets } from '../teams/team-budgets';
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
import { type ActiveTemplateVersion, TemplatesService } from '../templates/templates.service';
import { MetricsService } from '../metrics/metrics.service';
import type { Message } from '../delivery-status/message';
import {
  type MessageTimelineEvent,
  MessageQueriesRepository,
} from '../delivery-status/message-queries.repository';
import { type TimelineEvent, toTimelineEntry } from '../delivery-status/message-timeline';
import { iso, toMessageCore } from '../delivery-status/message-view';
import { withoutCredentials } from './callback-url';
import {
  buildIntakeRecord,
  checkCallbackUrl,
  checkedRecipients,
  checkTimezone,
  refuseOverCap,
  resolveTiming,
  toAccepted,
  type ValidatedRequest,
} from './intake-record';
import type { Notification } from './entities/notification.entity';
import { type IntakeRecord, IntakeWriter } from './intake-writer';
import {
  type AcceptedNotification,
  type CancelResult,
  type ListNotificationsQuery,
  MAX_EVENTS_PER_MESSAGE,
  MAX_MESSAGES_LISTED,
  type MessageView,
  type NotificationView,
  type SendNotificationDto,
} from './notifications.dto';
import { NotificationsRepository } from './notifications.repository';
import { requestHash } from './request-hash';

const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * A request from the templates API rather than a caller: a test send of a version or a draft the
 * caller's key could not name, rendered and checked like any other, marked `test`.
 */
export interface TestIntake {
  version: ActiveTemplateVersion;
}
/** How long a duplicate request waits for the first one holding its key before getting a 409. */
const IDEMPOTENCY_WAIT_MS = 5000;

@Injectable()
export class NotificationsService {
  private readonly logger = new Logger(NotificationsService.name);

  constructor(
    private readonly notifications: NotificationsRepository,
    private readonly lifecycle: MessageLifecycleRepository,
    private readonly messages: MessageQueriesRepository,
    private readonly templates: TemplatesService,
    private readonly dispatch: DispatchService,
    private readonly writer: IntakeWriter,
    private readonly metrics: MetricsService,
    private readonly config: AppConfig,
    private readonly suppressions: SuppressionLookupRepository,
    private readonly cap: RecipientCap,
    private readonly backlog: TeamBacklog,
    private readonly budgets: TeamBudgets,
  ) {}

  /**
   * Validates, renders and stores a request, then hands its due messages to the queue. The 202
   * goes out only after the commit: from then on the database alone is enough to finish the job.
   */
  async accept(
    principal: Principal,
    dto: SendNotificationDto,
    idempotencyKey: string | undefined,
    test?: TestIntake,
  ): Promise<AcceptedNotification> {
    checkCallbackUrl(dto);
    checkTimezone(dto);
    // Only a request with a key is ever compared with another.
    const hash = idempotencyKey ? requestHash(dto) : '';
    const earlier = idempotencyKey
      ? await this.earlierAnswer(principal, idempotencyKey, hash)
      : null;
    if (earlier) return earlier;

    const now = new Date();
    const record = buildIntakeRecord(
      principal,
      dto,
      await this.validate(principal, dto, now, test),
      this.config.protection,
      now,
    );
    // Reserved before the store (402 budget_exceeded past a hard-stop budget, nothing stored),
    // given back if the store fails or a concurrent duplicate stored the request first.
    const replayed = await this.budgets.reserving(record, () =>
      this.store(principal, record, idempotencyKey, hash),
    );
    if (replayed) return replayed;

    this.metrics.notificationsAccepted.inc({ template: record.notification.templateKey });
    this.metrics.messagesAccepted.inc(record.messages.length);
    await this.enqueue(record);
    return toAccepted(record);
  }

  /** The stored answer to an earlier request with this key, if it is still kept. */
  private async earlierAnswer(
    principal: Principal,
    idempotencyKey: string,
    hash: string,
  ): Promise<AcceptedNotification | null> {
    const previous = await this.notifications.findIdempotency(principal.team, idempotencyKey);
    if (previous && previous.expiresAt > new Date() && previous.response) {
      return this.replay(previous.requestHash, hash, previous.response);
    }
    return null;
  }

  /**
   * The template version, recipients, rendered text and timing of a request, or its 4xx (and 429
   * team_backlog_full before any rendering or lookup when the team's backlog is full).
   */
  private async validate(
    principal: Principal,
    dto: SendNotificationDto,
    now: Date,
    test?: TestIntake,
  ): Promise<ValidatedRequest> {
    const version =
      test?.version ?? (await this.templates.getActiveVersion(principal, dto.template));
    const recipients = checkedRecipients(dto.to);
    await this.backlog.check(principal.team, recipients.length);
    const rendered = this.templates.render(version, dto.variables ?? {});
    const timing = resolveTiming(dto, now);
    // A one-time code is never suppressed: no lookup for it.
    const suppressions =
      SUPPRESSED_BY[version.category].length === 0
        ? new Map<string, Set<SuppressionScope>>()
        : await this.suppressions.activeScopes(recipients);
    return { version, recipients, rendered, timing, suppressions, test: test !== undefined };
  }

  /**
   * Counts the messages due now against their numbers' caps, and fails those over it. Bounded:
   * with Redis slow or away the request is not held up; the send path counts every message again
   * before its claim (the count is per message id, so never twice), and refuses it there.
   */
  private async applyCaps(record: IntakeRecord): Promise<void> {
    const due = record.messages.filter((m) => m.status === 'pending');
    if (due.length === 0) return;
    const allowed = await raceTimeout(
      this.cap
        .take(due.map((m) => ({ messageId: m.id, recipient: m.recipient, category: m.category })))
        .catch((error: unknown) => {
          this.logger.warn(
            `Recipient cap unavailable at intake; the send path will apply it: ${String(error)}`,
          );
          return null;
        }),
      CAP_BUDGET_MS,
    );
    if (allowed === 'timeout' || allowed === null) return;
    refuseOverCap(due, allowed, this.config.protection.caps);
  }

  /**
   * Commits the record (with its Idempotency-Key in a transaction of its own); the answer of a
   * concurrent duplicate that committed first, or null when this one is stored.
   */
  private async store(
    principal: Principal,
    record: IntakeRecord,
    idempotencyKey: string | undefined,
    hash: string,
  ): Promise<AcceptedNotification | null> {
    if (!idempotencyKey) {
      await this.applyCaps(record);
      await this.writer.write(record);
      return null;
    }
    const stored = await this.storeOnce(principal, idempotencyKey, hash, record);
    return 'replayed' in stored ? stored.replayed : null;
  }

  /**
   * After the commit, and bounded: the rows are the promise, the queue only makes it fast. With
   * Redis down the enqueue would wait for reconnects (seconds) after the rows are committed, and
   * a caller that times out and retries without an Idempotency-Key would send twice; past the
   * bound the answer goes out and the sweeper enqueues the messages (job ids dedupe a late
   * enqueue that still lands).
   */
  private async enqueue(record: IntakeRecord): Promise<void> {
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
        // Counted only once the key is ours: concurrent duplicates of one request wait on the key
        // above and replay the winner's answer, so they take no one's place under the cap.
        await this.applyCaps(record);
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
    const messages = await this.messages.forNotification(notification.id, MAX_MESSAGES_LISTED);
    const events = await this.messages.timelines(
      messages.map((m) => m.id),
      MAX_EVENTS_PER_MESSAGE,
    );
    const counts = await this.messages.statusCounts([notification.id]);
    return toView(notification, messages, events, counts.get(notification.id) ?? {});
  }

  async list(
    principal: Principal,
    query: ListNotificationsQuery,
  ): Promise<{ data: Omit<NotificationView, 'messages'>[]; next_cursor: string | null }> {
    // An empty limit means the default here, as it always has.
    const limit = pageLimit(query.limit || undefined, LIST_LIMITS);
    const rows = await this.notifications.list({
      team: principal.isAdmin ? null : principal.team,
      status: query.status,
      template: query.template,
      reference: query.reference,
      since: query.since ? (parseInstant(query.since) ?? undefined) : undefined,
      until: query.until ? (parseInstant(query.until) ?? undefined) : undefined,
      after: query.cursor ? decodeCursor(query.cursor, readPosition) : undefined,
      limit: limit + 1,
    });
    const counts = await this.messages.statusCounts(rows.slice(0, limit).map((n) => n.id));
    return toPage(rows, limit, positionOf, (n) => summary(n, counts.get(n.id) ?? {}));
  }

  async cancel(principal: Principal, id: string): Promise<CancelResult> {
    const notification = await this.findVisible(principal, id);
    const { changed: canceled } = await this.lifecycle.transition(
      { notificationId: notification.id, unclaimed: true },
      { to: 'canceled', source: 'api' },
    );
    const messages = await this.messages.forNotification(notification.id, MAX_MESSAGES_LISTED);
    return {
      id: notification.id,
      canceled: canceled.length,
      messages: messages.map((m) => ({ id: m.id, to: m.recipient, status: m.status })),
    };
  }

  /** Another team's notification is reported as missing, not forbidden: ids don't leak. */
  private async findVisible(principal: Principal, id: string): Promise<Notification> {
    const notification = isUuid(id) ? await this.notifications.findNotification(id) : null;
    if (!notification || (!principal.isAdmin && notification.team !== principal.team)) {
      throw new NotFoundError('notification_not_found', `No notification with id ${id}`);
    }
    return notification;
  }
}

function toDispatched(m: StoredNewMessage): NewlyAccepted {
  return {
    id: m.id,
    dispatchSeq: 0,
    priority: m.priority,
    status: m.status,
    nextAttemptAt: m.nextAttemptAt,
    team: m.team,
  };
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
    test: n.test,
    status_counts: counts,
  };
}

function toView(
  n: Notification,
  messages: Message[],
  events: MessageTimelineEvent[],
  counts: Record<string, number>,
): NotificationView {
  const byMessage = new Map<string, MessageTimelineEvent[]>();
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

export function toMessageView(m: Message, events: readonly TimelineEvent[]): MessageView {
  return {
    ...toMessageCore(m),
    encoding: m.encoding,
    characters: m.characters,
    credits_used: m.creditsUsed,
    sent_at: iso(m.sentAt),
    updated_at: m.updatedAt.toISOString(),
    events: events.map(toTimelineEntry),
  };
}

/** How long intake waits for the per-number cap before leaving it to the send path. */
export const CAP_BUDGET_MS = 250;

/** How long intake waits for the queue after committing before leaving the job to the sweeper. */
export const ENQUEUE_BUDGET_MS = 100;

/** The list's sort position: created_at, then id. */
function positionOf(n: Notification): CursorPosition {
  return [n.createdAt.toISOString(), n.id];
}

function readPosition([at, id]: unknown[]): { createdAt: Date; id: string } | null {
  const createdAt = typeof at === 'string' ? parseInstant(at) : null;
  return isUuid(id) && createdAt !== null ? { createdAt, id } : null;
}
