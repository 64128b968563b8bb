import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { MetricsService } from '../metrics/metrics.service';
import { type MessageCategory, SUPPRESSED_BY } from '../common/message-category';
import type { EventSource } from './message';
import type { Message } from './message';
import {
  CLAIMABLE_STATUS,
  FAILURE_STATUSES,
  impliesSent,
  INITIAL_SCHEDULED_STATUS,
  isTerminal,
  type MessageStatus,
  STATUS_SQL,
  statusesBefore,
  statusListSql,
  UNSENT_STATUSES,
} from './message-status';
import {
  DISPATCH_COLUMNS,
  type DispatchRef,
  type DispatchRow,
  M_COLUMNS,
  MESSAGE_COLUMNS,
  type MessageRow,
  toDispatchRef,
  toMessage,
} from './message-row';
import { boundedError } from './provider-error-code';

/**
 * Which messages a change applies to. Every field given narrows the set; a batch (`limit`) takes
 * at most that many, oldest news first, skipping rows another statement is changing right now.
 */
export interface MessageSelector {
  id?: string;
  /** The messages of one provider request (a batch), by our ids. */
  ids?: readonly string[];
  providerMessageId?: string;
  /**
   * With `providerMessageId`: the recipient the provider's news is about (one id names every
   * recipient of a batch). Null: the news names none, so it applies only where the provider id
   * names a single message.
   */
  recipient?: string | null;
  notificationId?: string;
  /** Only while this claim is held: the worker that claimed the message. */
  claimToken?: string;
  /** Only messages no worker holds a claim on. */
  unclaimed?: boolean;
  /** Only messages whose `expires_at` has passed (by the database's clock). */
  pastExpiry?: boolean;
  /** Only messages handed to the provider before this time. */
  handedOverBefore?: Date;
  /** Narrows the states the move may start from, within what the lifecycle allows. */
  from?: readonly MessageStatus[];
  limit?: number;
}

export interface AcceptedByProvider {
  providerMessageId: string;
  creditsUsed: number | null;
  creditsRemaining: number | null;
  /** The provider account that took it (SMS_PROVIDER_ACCOUNTS); polls of it go there. */
  account?: string | null;
}

export interface StatusChange {
  to: MessageStatus;
  source: EventSource;
  occurredAt?: Date;
  details?: Record<string, unknown> | null;
  /** Same key twice for one message → the second changes nothing (replayed provider events). */
  dedupeKey?: string | null;
  /** Stored on the message and carried by the timeline row (and so by the status callback). */
  error?: { code: string; message: string | null } | null;
  sentAt?: Date | null;
  deliveredAt?: Date | null;
  /** The provider took the message: its id and credits are stored, the claim released. */
  accepted?: AcceptedByProvider;
  /** News from the provider (webhook, poll): stamps `last_checked_at`. */
  fromProvider?: boolean;
  /** Adds the message's attempt count to the timeline row. */
  withAttempt?: boolean;
}

export interface TransitionResult {
  /** Messages the selector's keys found, whatever their state. */
  matched: number;
  /** Those that moved. */
  changed: Message[];
}

/** Which claims go back for another attempt. */
export type ClaimRelease =
  | { id: string; claimToken: string }
  /** The messages of one provider request, while its claim is held. */
  | { ids: readonly string[]; claimToken: string }
  /** Claims taken before this time (the backstop for a live worker stuck on a call). */
  | { claimedBefore: Date }
  /** Claims whose owner's lease has lapsed: that process is dead. */
  | { ownerLeaseLapsed: true };

/** What a new message is stored with: the row's own columns, its next attempt always due. */
export type NewMessage = Pick<
  Message,
  | 'recipient'
  | 'body'
  | 'senderId'
  | 'characters'
  | 'encoding'
  | 'segments'
  | 'status'
  | 'priority'
  | 'scheduledAt'
  | 'expiresAt'
  | 'category'
  | 'timezone'
  | 'team'
> & {
  nextAttemptAt: Date;
  /** Why a message stored `failed` never went (recipient protection at intake). */
  error?: { code: string; message: string };
  /** Held back out of the recipient's quiet hours: recorded on its timeline. */
  deferred?: { reason: string; until: Date; timezone: string };
  /** A template's test send (templates API): its first timeline entry says `test: true`. */
  test?: boolean;
};

/** A new message with the id its caller gave it, ready for insertNew(). */
export interface StoredNewMessage extends NewMessage {
  id: string;
  notificationId: string;
}

/** One row of a new message's first timeline entries. */
interface FirstEvent {
  id: string;
  type: string;
  status: MessageStatus;
  details: Record<string, unknown> | null;
  statusChange: boolean;
}

/**
 * The timeline a message starts with: accepted (or scheduled), deferred when quiet hours moved
 * it, or failed (a status change, so its callback goes out) when intake stopped it. The first
 * entry names the category the message was accepted under.
 */
function firstEvents(m: StoredNewMessage): FirstEvent[] {
  const test = m.test ? { test: true } : {};
  if (m.error) {
    return [
      {
        id: m.id,
        type: m.status,
        status: m.status,
        details: { category: m.category, error: m.error, ...test },
        statusChange: true,
      },
    ];
  }
  if (m.status !== INITIAL_SCHEDULED_STATUS) {
    return [
      {
        id: m.id,
        type: 'accepted',
        status: m.status,
        details: { category: m.category, ...test },
        statusChange: false,
      },
    ];
  }
  const events: FirstEvent[] = [
    {
      id: m.id,
      type: 'scheduled',
      status: m.status,
      details: {
        category: m.category,
        ...(m.scheduledAt ? { scheduled_at: m.scheduledAt.toISOString() } : {}),
        ...test,
      },
      statusChange: false,
    },
  ];
  if (m.deferred) {
    events.push({
      id: m.id,
      type: 'deferred',
      status: m.status,
      details: {
        reason: m.deferred.reason,
        until: m.deferred.until.toISOString(),
        timezone: m.deferred.timezone,
      },
      statusChange: false,
    });
  }
  return events;
}

/**
 * The suppression scopes that stop a message of the row's category (`m.category`), as SQL built
 * from SUPPRESSED_BY: constants only, never input.
 */
const SUPPRESSING_SCOPES_SQL = `CASE m.category ${Object.entries(SUPPRESSED_BY)
  .map(
    ([category, scopes]) =>
      `WHEN '${category}' THEN ARRAY[${scopes.map((scope) => `'${scope}'`).join(', ')}]::text[]`,
  )
  .join(' ')} END`;

/** Collects positional parameters while a statement is assembled. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown, cast = ''): string {
    this.values.push(value);
    return `$${this.values.length}${cast}`;
  }
}

/**
 * The one owner of the message lifecycle: every write of a message's status, claim and timeline
 * goes through here, and nowhere else. A change is a single SQL statement that checks the current
 * state against the moves `message-status.ts` allows and writes the timeline row in the same
 * breath, so the database, not the caller, decides whether a change is legal; that is what keeps
 * concurrent workers, webhooks, polls and sweepers honest.
 */
@Injectable()
export class MessageLifecycleRepository {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * Stores the messages of a notification just accepted, with their first timeline rows, inside
   * the caller's transaction.
   */
  /**
   * Stores new messages (ids chosen by the caller) with the first row of each one's timeline, in
   * one statement whatever the count: column arrays through unnest(), so a batch of many requests
   * costs one round trip and never nears PostgreSQL's parameter limit.
   */
  async insertNew(manager: EntityManager, messages: readonly StoredNewMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const column = <K extends keyof StoredNewMessage>(key: K) => messages.map((m) => m[key]);
    const events = messages.flatMap(firstEvents);
    await manager.query(
      `WITH stored AS (
         INSERT INTO messages (id, notification_id, recipient, body, sender_id, characters,
           encoding, segments, status, priority, scheduled_at, expires_at, next_attempt_at,
           category, timezone, team, error_code, error_message, completed_at)
         SELECT i.*, CASE WHEN i.error_code IS NULL THEN NULL ELSE now() END
         FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[],
           $6::int[], $7::text[], $8::int[], $9::text[], $10::smallint[], $11::timestamptz[],
           $12::timestamptz[], $13::timestamptz[], $14::text[], $15::text[], $16::text[],
           $17::text[], $18::text[]) AS i(id, notification_id, recipient, body, sender_id,
             characters, encoding, segments, status, priority, scheduled_at, expires_at,
             next_attempt_at, category, timezone, team, error_code, error_message)
       )
       INSERT INTO message_events (message_id, type, status, source, details, status_change)
       SELECT id, type, status, 'api', details, status_change
       FROM unnest($19::uuid[], $20::text[], $21::text[], $22::jsonb[], $23::boolean[])
         AS e(id, type, status, details, status_change)`,
      [
        column('id'),
        column('notificationId'),
        column('recipient'),
        column('body'),
        column('senderId'),
        column('characters'),
        column('encoding'),
        column('segments'),
        column('status'),
        column('priority'),
        column('scheduledAt'),
        column('expiresAt'),
        column('nextAttemptAt'),
        column('category'),
        column('timezone'),
        column('team'),
        messages.map((m) => m.error?.code ?? null),
        messages.map((m) => m.error?.message ?? null),
        events.map((e) => e.id),
        events.map((e) => e.type),
        events.map((e) => e.status),
        events.map((e) => (e.details ? JSON.stringify(e.details) : null)),
        events.map((e) => e.statusChange),
      ],
    );
    for (const m of messages) {
      if (!m.error) continue;
      this.metrics.messageTransitions.inc({ status: m.status });
      this.metrics.countFailure(m.error.code);
    }
  }

  /**
   * Sends failed or expired messages again as new messages of the same notification, each linked
   * to the one it replaces (`resend_of`) and due now; the old row keeps its final status and gets
   * a `resent` row on its timeline. One statement: a message already resent, or not final-failed,
   * is skipped, so repeating a request creates nothing twice. Returns the new messages.
   */
  async createResends(
    ids: readonly string[],
    details: Record<string, unknown>,
    validityMs: Record<MessageCategory, number>,
  ): Promise<Message[]> {
    if (ids.length === 0) return [];
    const rows: MessageRow[] = await this.db.query(
      `WITH created AS (
         INSERT INTO messages (notification_id, recipient, body, sender_id, characters, encoding,
           segments, status, priority, expires_at, next_attempt_at, resend_of, category, timezone,
           team)
         SELECT m.notification_id, m.recipient, m.body, m.sender_id, m.characters, m.encoding,
           m.segments, ${STATUS_SQL.pending}, m.priority,
           -- A validity that has already run out would expire the new message at once: the
           -- resend gets its category's validity from now.
           CASE WHEN m.expires_at > now() THEN m.expires_at
             ELSE now() + ($3::jsonb ->> m.category)::bigint * interval '1 millisecond' END,
           now(), m.id, m.category, m.timezone, m.team
         FROM messages m
         WHERE m.id = ANY($1::uuid[]) AND m.status IN (${statusListSql(FAILURE_STATUSES)})
         ORDER BY m.submitted_at, m.id
         ON CONFLICT (resend_of) WHERE resend_of IS NOT NULL DO NOTHING
         RETURNING ${MESSAGE_COLUMNS}
       ), accepted AS (
         INSERT INTO message_events (message_id, type, status, source, details)
         SELECT id, 'accepted', status, 'api', $2::jsonb || jsonb_build_object('resend_of', resend_of)
         FROM created
       ), resent AS (
         INSERT INTO message_events (message_id, type, status, source, details)
         SELECT old.id, 'resent', old.status, 'api', $2::jsonb || jsonb_build_object('resent_as', c.id)
         FROM created c JOIN messages old ON old.id = c.resend_of
       )
       SELECT * FROM created`,
      [ids, JSON.stringify(details), JSON.stringify(validityMs)],
    );
    return rows.map(toMessage);
  }

  /**
   * Moves the selected messages to `change.to` where the lifecycle allows it from their current
   * status, and records the change on each one's timeline.
   */
  async transition(
    selector: MessageSelector,
    change: StatusChange,
    manager: EntityManager = this.db.manager,
  ): Promise<TransitionResult> {
    const p = new Params();
    const from = statusesBefore(change.to).filter(
      (s) => !selector.from || selector.from.includes(s),
    );
    const keys = keyConditions(selector, p);
    const batch = selector.limit !== undefined;
    if (!keys.length && !batch) throw new Error('transition: a selector needs a key or a limit');
    const target = batch
      ? `SELECT id FROM messages WHERE ${[...keys, ...stateConditions(selector, p, from)].join(' AND ')}
         ORDER BY updated_at LIMIT ${p.add(selector.limit)} FOR UPDATE SKIP LOCKED`
      : `SELECT id FROM messages WHERE ${keys.join(' AND ')}`;

    const to = p.add(change.to);
    const occurredAt = p.add(change.occurredAt ?? new Date(), '::timestamptz');
    const accepted = change.accepted ?? null;
    const acceptedFlag = p.add(accepted !== null, '::boolean');
    const release = p.add(accepted !== null || isTerminal(change.to), '::boolean');
    // Whoever reports it (the provider's answer to a send included), a code is stored bounded.
    const error = boundedError(change.error ?? null);
    const details = {
      ...(change.details ?? {}),
      ...errorDetails(error),
    };
    const dedupe = change.dedupeKey ? p.add(change.dedupeKey) : null;

    const sql = `
      WITH target AS (${target}),
      updated AS (
        UPDATE messages m SET ${assignments({
          to,
          occurredAt,
          acceptedFlag,
          release,
          errorCode: p.add(error?.code ?? null),
          errorMessage: p.add(error?.message ?? null),
          sentAt: p.add(change.sentAt ?? null, '::timestamptz'),
          deliveredAt: p.add(change.deliveredAt ?? null, '::timestamptz'),
          impliesSent: p.add(impliesSent(change.to), '::boolean'),
          delivered: p.add(change.to === 'delivered', '::boolean'),
          terminal: p.add(isTerminal(change.to), '::boolean'),
          providerMessageId: p.add(accepted?.providerMessageId ?? null),
          creditsUsed: p.add(accepted?.creditsUsed ?? null, '::int'),
          creditsRemaining: p.add(accepted?.creditsRemaining ?? null, '::int'),
          providerAccount: p.add(accepted?.account ?? null),
          fromProvider: p.add(change.fromProvider ?? false, '::boolean'),
        })}
        FROM target
        WHERE m.id = target.id AND ${stateConditions(selector, p, from, 'm.').join(' AND ')}
          ${dedupe ? `AND NOT EXISTS (SELECT 1 FROM message_events e WHERE e.message_id = m.id AND e.dedupe_key = ${dedupe})` : ''}
        RETURNING ${M_COLUMNS}
      ), event AS (
        INSERT INTO message_events (message_id, type, status, source, dedupe_key, details, occurred_at, status_change)
        SELECT id, status, status, ${p.add(change.source)}, ${dedupe ?? 'NULL'},
          NULLIF(${p.add(JSON.stringify(details), '::jsonb')}
            || CASE WHEN ${p.add(change.withAttempt ?? false, '::boolean')} THEN jsonb_build_object('attempt', attempts) ELSE '{}'::jsonb END,
            '{}'::jsonb),
          ${occurredAt}, true
        FROM updated
        ON CONFLICT DO NOTHING
      )
      SELECT (SELECT count(*) FROM target)::int AS matched, u.*
      FROM (SELECT 1) AS one LEFT JOIN updated u ON true`;
    const rows: (MessageRow & { matched: number })[] = await manager.query(sql, p.values);
    const changed = rows.filter((r) => r.id !== null).map(toMessage);
    this.count(change.to, changed);
    return { matched: rows[0]?.matched ?? 0, changed };
  }

  private count(to: MessageStatus, changed: readonly Message[]): void {
    if (!changed.length) return;
    this.metrics.messageTransitions.inc({ status: to }, changed.length);
    if (to === 'failed' || to === 'expired') {
      for (const m of changed) {
        this.metrics.countFailure(m.errorCode ?? to);
      }
    }
  }

  /**
   * Provider news for many messages (by provider id) in one transaction: one statement per status
   * reported, whatever the number of events, each event moving its message as transition() with
   * `fromProvider` would. Answers, per update in order, whether its message is known and whether
   * it moved. A message named twice is moved in two rounds, in the order given.
   */
  async applyProviderUpdates(
    updates: readonly ProviderChange[],
    source: EventSource,
  ): Promise<ProviderChangeResult[]> {
    const results: ProviderChangeResult[] = updates.map(() => ({ matched: false, changed: null }));
    await this.db.transaction(async (manager) => {
      for (const round of providerRounds(updates)) {
        for (const [to, group] of round) {
          const rows = await this.applyProviderGroup(manager, to, group, source);
          for (const row of rows) {
            results[row.ord] = {
              matched: row.matched,
              changed: row.id === null ? null : toMessage(row),
            };
          }
        }
      }
    });
    for (const [to, changed] of groupBy(results, updates)) this.count(to, changed);
    return results;
  }

  private async applyProviderGroup(
    manager: EntityManager,
    to: MessageStatus,
    group: readonly { ord: number; update: ProviderChange }[],
    source: EventSource,
  ): Promise<(MessageRow & { ord: number; matched: boolean })[]> {
    const p = new Params();
    const column = <T>(pick: (u: ProviderChange) => T) => group.map((g) => pick(g.update));
    const input = `unnest(${p.add(column((u) => u.providerMessageId))}::text[],
      ${p.add(column((u) => u.recipient ?? null))}::text[],
      ${p.add(column((u) => u.occurredAt))}::timestamptz[],
      ${p.add(column((u) => u.error?.code ?? null))}::text[],
      ${p.add(column((u) => u.error?.message ?? null))}::text[],
      ${p.add(column((u) => u.sentAt))}::timestamptz[],
      ${p.add(column((u) => u.deliveredAt))}::timestamptz[],
      ${p.add(column((u) => (u.error ? JSON.stringify(errorDetails(u.error)) : null)))}::jsonb[],
      ${p.add(group.map((g) => g.ord))}::int[])
      AS i(provider_message_id, recipient, occurred_at, error_code, error_message, sent_at, delivered_at, details, ord)`;
    const dedupe = p.add(`provider:${to}`);
    const terminal = p.add(isTerminal(to), '::boolean');
    const from = p.add(statusesBefore(to), '::text[]');
    return manager.query(
      `WITH input AS (SELECT * FROM ${input}),
       target AS (
         -- Locked in id order, so that two batches naming the same messages wait for each other
         -- instead of deadlocking.
         SELECT m.id AS message_id, i.* FROM input i
         JOIN messages m ON m.provider_message_id = i.provider_message_id
           -- News that names no recipient moves a message only where the id names one alone.
           AND (m.recipient = i.recipient OR (i.recipient IS NULL AND NOT EXISTS (
             SELECT 1 FROM messages other
             WHERE other.provider_message_id = i.provider_message_id AND other.id <> m.id)))
         ORDER BY m.id
         FOR UPDATE OF m
       ),
       updated AS (
         UPDATE messages m SET ${assignments({
           to: p.add(to),
           occurredAt: 't.occurred_at',
           acceptedFlag: 'false',
           release: terminal,
           errorCode: 't.error_code',
           errorMessage: 't.error_message',
           sentAt: 't.sent_at',
           deliveredAt: 't.delivered_at',
           impliesSent: p.add(impliesSent(to), '::boolean'),
           delivered: p.add(to === 'delivered', '::boolean'),
           terminal,
           providerMessageId: 'NULL',
           creditsUsed: 'NULL::int',
           creditsRemaining: 'NULL::int',
           providerAccount: 'NULL',
           fromProvider: 'true',
         })}
         FROM target t
         WHERE m.id = t.message_id AND m.status = ANY(${from})
           AND NOT EXISTS (SELECT 1 FROM message_events e WHERE e.message_id = m.id AND e.dedupe_key = ${dedupe})
         RETURNING ${M_COLUMNS}, t.ord AS input_ord, t.occurred_at AS event_at, t.details AS event_details
       ), event AS (
         INSERT INTO message_events (message_id, type, status, source, dedupe_key, details, occurred_at, status_change)
         SELECT id, status, status, ${p.add(source)}, ${dedupe}, event_details, event_at, true
         FROM updated
         ON CONFLICT DO NOTHING
       )
       SELECT i.ord, (t.message_id IS NOT NULL) AS matched, u.*
       FROM input i
       LEFT JOIN target t ON t.ord = i.ord
       LEFT JOIN updated u ON u.input_ord = i.ord`,
      p.values,
    );
  }

  /** `transition` for one message: the message after the move, or null when it did not move. */
  async move(
    selector: MessageSelector,
    change: StatusChange,
    manager?: EntityManager,
  ): Promise<Message | null> {
    const { changed } = await this.transition(selector, change, manager);
    return changed[0] ?? null;
  }

  /** A timeline entry that is not a status change (an attempt that failed, a retry planned). */
  async addEvent(
    id: string,
    type: string,
    source: EventSource,
    details: Record<string, unknown> | null,
  ): Promise<void> {
    await this.db.query(
      `INSERT INTO message_events (message_id, type, status, source, details)
       SELECT id, $2, status, $3, $4::jsonb FROM messages WHERE id = $1`,
      [id, type, source, details ? JSON.stringify(details) : null],
    );
  }

  /**
   * Takes the message for one provider call on behalf of the lease `owner`. Only a pending,
   * unclaimed, unexpired message can be claimed, so two workers holding jobs for the same message
   * never both send it. A message whose recipient the suppression list now stops for its category
   * is not claimed (`suppressed`): the list is read in the same statement, so an entry added while
   * the message waited costs the hot path no round trip of its own.
   */
  async claim(
    id: string,
    token: string,
    owner: string,
    manager: EntityManager = this.db.manager,
  ): Promise<{ message: Message } | { suppressed: true } | null> {
    const rows: (MessageRow & { is_suppressed: boolean })[] = await manager.query(
      // Wrapped in a CTE so the driver returns plain rows (a bare UPDATE … RETURNING comes back
      // as [rows, count]).
      `WITH target AS (
         SELECT m.id, EXISTS (
           SELECT 1 FROM suppressions s
           WHERE s.recipient = m.recipient AND s.removed_at IS NULL
             AND s.scope = ANY(${SUPPRESSING_SCOPES_SQL})
         ) AS is_suppressed
         FROM messages m WHERE m.id = $1
       ), claimed AS (
         UPDATE messages m SET claimed_at = now(), claim_token = $2, claim_owner = $3,
           attempts = attempts + 1, updated_at = now()
         FROM target t
         WHERE m.id = t.id AND NOT t.is_suppressed AND m.status = $4 AND m.claimed_at IS NULL
           AND (m.expires_at IS NULL OR m.expires_at > now())
         RETURNING ${M_COLUMNS}
       )
       SELECT t.is_suppressed, c.* FROM target t LEFT JOIN claimed c ON true`,
      [id, token, owner, CLAIMABLE_STATUS],
    );
    const [row] = rows;
    if (!row) return null;
    if (row.is_suppressed) return { suppressed: true };
    return row.id === null ? null : { message: toMessage(row) };
  }

  /**
   * claim() and claimMates() in one transaction, one leader at a time per request body: workers
   * that picked up jobs for messages of one broadcast at the same moment would otherwise each
   * claim their own message before any of them gathered the rest, and the broadcast would go out
   * as one request per worker plus one large one. Under the lock the first leader takes its
   * mates; the others then find their messages claimed and have nothing to send.
   */
  async claimBatch(
    leader: Message,
    token: string,
    owner: string,
    limits: BatchLimits,
  ): Promise<{ message: Message; mates: Message[] } | { suppressed: true } | null> {
    return this.db.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock($1::bigint)`, [batchLockKey(leader)]);
      const claimed = await this.claim(leader.id, token, owner, manager);
      if (!claimed || 'suppressed' in claimed) return claimed;
      const mates = await this.claimMates(claimed.message, token, owner, limits, manager);
      return { message: claimed.message, mates };
    });
  }

  /**
   * Claims, under the leader's claim token and owner, up to `max` other messages that would put
   * the same request body on the wire apart from `to` and are due within `windowMs`: the same
   * text, sender, category, priority and team (so the same account and the same share of the
   * rate) and the same time zone (so quiet hours, checked for the leader just now, hold for them
   * too). Each recipient appears once in a request, and never the leader's. Only what claim()
   * would take: unclaimed, unexpired, not stopped by the suppression list; a scheduled one moves
   * to pending on its timeline as the worker would move it. Rows another statement is changing
   * are skipped, not waited for.
   */
  async claimMates(
    leader: Message,
    token: string,
    owner: string,
    { max, windowMs }: BatchLimits,
    manager: EntityManager = this.db.manager,
  ): Promise<Message[]> {
    if (max <= 0) return [];
    const rows: MessageRow[] = await manager.query(
      `WITH locked AS (
         SELECT m.id, m.recipient, m.status, m.next_attempt_at FROM messages m
         WHERE md5(m.body) = md5($1) AND m.body = $1
           AND m.claimed_at IS NULL AND m.status IN (${statusListSql(UNSENT_STATUSES)})
           AND m.next_attempt_at <= now() + $2 * interval '1 millisecond'
           AND m.id <> $3 AND m.recipient <> $4
           AND m.sender_id IS NOT DISTINCT FROM $5 AND m.category = $6 AND m.priority = $7
           AND m.team IS NOT DISTINCT FROM $8 AND m.timezone IS NOT DISTINCT FROM $9
           AND (m.expires_at IS NULL OR m.expires_at > now())
           AND NOT EXISTS (
             SELECT 1 FROM suppressions s
             WHERE s.recipient = m.recipient AND s.removed_at IS NULL
               AND s.scope = ANY(${SUPPRESSING_SCOPES_SQL}))
         ORDER BY m.next_attempt_at, m.id
         LIMIT $10
         FOR UPDATE OF m SKIP LOCKED
       ), picked AS (
         SELECT id, status FROM (
           SELECT l.*, row_number() OVER (PARTITION BY recipient ORDER BY next_attempt_at, id) AS n
           FROM locked l
         ) one_each WHERE n = 1
       ), claimed AS (
         UPDATE messages m SET status = ${STATUS_SQL.pending}, claimed_at = now(), claim_token = $11,
           claim_owner = $12, attempts = attempts + 1, updated_at = now()
         FROM picked WHERE m.id = picked.id
         RETURNING ${M_COLUMNS}, picked.status AS was
       ), moved AS (
         INSERT INTO message_events (message_id, type, status, source, status_change)
         SELECT id, status, status, 'worker', true FROM claimed WHERE was = ${STATUS_SQL.scheduled}
       )
       SELECT * FROM claimed ORDER BY next_attempt_at, id`,
      [
        leader.body,
        windowMs,
        leader.id,
        leader.recipient,
        leader.senderId,
        leader.category,
        leader.priority,
        leader.team,
        leader.timezone,
        max,
        token,
        owner,
      ],
    );
    const wereScheduled = rows.filter(
      (r) => (r as MessageRow & { was: string }).was === 'scheduled',
    );
    if (wereScheduled.length) {
      this.metrics.messageTransitions.inc({ status: 'pending' }, wereScheduled.length);
    }
    return rows.map(toMessage);
  }

  /**
   * Moves an unclaimed, unsent message's next attempt to `until`, with a new dispatch sequence so
   * its job id is new, and says why on its timeline: once per reason in a row, so a message held
   * again and again (a team over its budget, checked every minute) does not grow its timeline
   * without end. `reschedule` also makes `until` its scheduled time (quiet hours: the time it is
   * now due); a hold leaves the scheduled time the caller asked for.
   */
  async defer(
    id: string,
    until: Date,
    details: Record<string, unknown> & { reason: string },
    { reschedule = true }: { reschedule?: boolean } = {},
  ): Promise<DispatchRef | null> {
    const rows: DispatchRow[] = await this.db.query(
      `WITH updated AS (
         UPDATE messages SET next_attempt_at = $2, dispatch_seq = dispatch_seq + 1,
           scheduled_at = CASE WHEN $4 THEN $2 ELSE scheduled_at END,
           updated_at = now()
         WHERE id = $1 AND claimed_at IS NULL AND status IN (${statusListSql(UNSENT_STATUSES)})
         RETURNING id, dispatch_seq, priority, next_attempt_at, team, status
       ), event AS (
         INSERT INTO message_events (message_id, type, status, source, details)
         SELECT u.id, 'deferred', u.status, 'worker', $3::jsonb FROM updated u
         WHERE NOT EXISTS (
           SELECT 1 FROM (
             SELECT type, details FROM message_events WHERE message_id = u.id
             ORDER BY id DESC LIMIT 1
           ) last
           WHERE last.type = 'deferred' AND last.details->>'reason' = $3::jsonb->>'reason'
         )
       )
       SELECT ${DISPATCH_COLUMNS} FROM updated`,
      [id, until, JSON.stringify(details), reschedule],
    );
    return rows.length ? toDispatchRef(rows[0]) : null;
  }

  /**
   * Gives claims back and plans the next attempt at `nextAttemptAt` (now when omitted), each
   * with a new dispatch sequence so its job id is new. `countsAsAttempt` false (a 429, a credits
   * pause, a dead worker) undoes the attempt the claim took.
   */
  async releaseClaims(
    which: ClaimRelease,
    plan: { nextAttemptAt?: Date; countsAsAttempt: boolean },
    event: { type: string; source: EventSource; details: Record<string, unknown> },
  ): Promise<DispatchRef[]> {
    const p = new Params();
    const conditions = [`claimed_at IS NOT NULL`, `status = ${p.add(CLAIMABLE_STATUS)}`];
    if ('claimToken' in which) {
      conditions.push(
        'ids' in which ? `id = ANY(${p.add(which.ids)}::uuid[])` : `id = ${p.add(which.id)}::uuid`,
        `claim_token = ${p.add(which.claimToken)}::uuid`,
      );
    } else if ('claimedBefore' in which) {
      conditions.push(`claimed_at < ${p.add(which.claimedBefore, '::timestamptz')}`);
    } else {
      conditions.push(
        `claim_owner IS NOT NULL`,
        `NOT EXISTS (SELECT 1 FROM worker_leases l WHERE l.id = claim_owner AND l.expires_at > now())`,
      );
    }
    const rows: DispatchRow[] = await this.db.query(
      `WITH target AS (
         SELECT id FROM messages WHERE ${conditions.join(' AND ')} FOR UPDATE SKIP LOCKED
       ), updated AS (
         UPDATE messages m SET claimed_at = NULL, claim_token = NULL, claim_owner = NULL,
           next_attempt_at = COALESCE(${p.add(plan.nextAttemptAt ?? null, '::timestamptz')}, now()),
           dispatch_seq = dispatch_seq + 1,
           attempts = CASE WHEN ${p.add(plan.countsAsAttempt, '::boolean')} THEN attempts ELSE attempts - 1 END,
           updated_at = now()
         FROM target WHERE m.id = target.id
         RETURNING m.id, m.dispatch_seq, m.priority, m.next_attempt_at, m.team, m.status
       ), event AS (
         INSERT INTO message_events (message_id, type, status, source, details)
         SELECT id, ${p.add(event.type)}, status, ${p.add(event.source)}, ${p.add(JSON.stringify(event.details), '::jsonb')}
         FROM updated
       )
       SELECT ${DISPATCH_COLUMNS} FROM updated`,
      p.values,
    );
    return rows.map(toDispatchRef);
  }

  /**
   * Records a poll of the provider about the message, which starts its next quiet time over: for
   * every recipient of its provider request, since one poll answers for all of them.
   */
  async markChecked(id: string): Promise<void> {
    await this.db.query(
      `UPDATE messages SET last_checked_at = now()
       WHERE id = $1 OR provider_message_id = (SELECT provider_message_id FROM messages WHERE id = $1)`,
      [id],
    );
  }
}

/** How many other messages may join a leader's request, and how far ahead they may be due. */
export interface BatchLimits {
  max: number;
  windowMs: number;
}

/**
 * The advisory lock of a request body (what claimMates groups by), as a signed 64-bit number.
 * Namespaced so that it cannot meet the service's other advisory locks (small constants).
 */
function batchLockKey(m: Message): string {
  const digest = createHash('sha256')
    .update(
      JSON.stringify(['batch', m.body, m.senderId, m.category, m.priority, m.team, m.timezone]),
    )
    .digest();
  return digest.readBigInt64BE(0).toString();
}

function keyConditions(selector: MessageSelector, p: Params): string[] {
  const keys: string[] = [];
  if (selector.id !== undefined) keys.push(`id = ${p.add(selector.id)}::uuid`);
  if (selector.ids !== undefined) keys.push(`id = ANY(${p.add(selector.ids)}::uuid[])`);
  if (selector.providerMessageId !== undefined) {
    const pmid = p.add(selector.providerMessageId);
    keys.push(`provider_message_id = ${pmid}`);
    if (selector.recipient) keys.push(`recipient = ${p.add(selector.recipient)}`);
    else if (selector.recipient === null)
      keys.push(
        `NOT EXISTS (SELECT 1 FROM messages other WHERE other.provider_message_id = ${pmid} AND other.id <> messages.id)`,
      );
  }
  if (selector.notificationId !== undefined)
    keys.push(`notification_id = ${p.add(selector.notificationId)}::uuid`);
  return keys;
}

/** Conditions on the message's state, rechecked by the UPDATE itself on the row it locks. */
function stateConditions(
  selector: MessageSelector,
  p: Params,
  from: readonly MessageStatus[],
  alias = '',
): string[] {
  const c = [`${alias}status = ANY(${p.add(from)}::text[])`];
  if (selector.claimToken !== undefined)
    c.push(`${alias}claim_token = ${p.add(selector.claimToken)}::uuid`);
  if (selector.unclaimed) c.push(`${alias}claimed_at IS NULL`);
  if (selector.pastExpiry) c.push(`${alias}expires_at <= now()`);
  if (selector.handedOverBefore !== undefined)
    c.push(`${alias}queued_at < ${p.add(selector.handedOverBefore, '::timestamptz')}`);
  return c;
}

/** What a timeline row says of a failure (the status callback carries it): never a null message. */
function errorDetails(error: { code: string; message: string | null } | null): {
  error?: { code: string; message: string };
} {
  return error ? { error: { code: error.code, message: error.message ?? error.code } } : {};
}

/** SQL expressions for the values of one status change (parameters, or columns of an input). */
interface ChangeValues {
  to: string;
  occurredAt: string;
  acceptedFlag: string;
  release: string;
  errorCode: string;
  errorMessage: string;
  sentAt: string;
  deliveredAt: string;
  impliesSent: string;
  delivered: string;
  terminal: string;
  providerMessageId: string;
  creditsUsed: string;
  creditsRemaining: string;
  providerAccount: string;
  fromProvider: string;
}

/** The SET list of a status change: the one definition of what a move writes on the row. */
function assignments(v: ChangeValues): string {
  return `
    status = ${v.to},
    error_code = CASE WHEN ${v.acceptedFlag} THEN NULL ELSE COALESCE(${v.errorCode}, m.error_code) END,
    error_message = CASE WHEN ${v.acceptedFlag} THEN NULL ELSE COALESCE(${v.errorMessage}, m.error_message) END,
    sent_at = COALESCE(m.sent_at, ${v.sentAt}, CASE WHEN ${v.impliesSent} THEN ${v.occurredAt} END),
    delivered_at = COALESCE(m.delivered_at, ${v.deliveredAt}, CASE WHEN ${v.delivered} THEN ${v.occurredAt} END),
    completed_at = CASE WHEN ${v.terminal} THEN now() ELSE m.completed_at END,
    claimed_at = CASE WHEN ${v.release} THEN NULL ELSE m.claimed_at END,
    claim_token = CASE WHEN ${v.release} THEN NULL ELSE m.claim_token END,
    claim_owner = CASE WHEN ${v.release} THEN NULL ELSE m.claim_owner END,
    provider_message_id = COALESCE(${v.providerMessageId}, m.provider_message_id),
    credits_used = COALESCE(${v.creditsUsed}, m.credits_used),
    credits_remaining = COALESCE(${v.creditsRemaining}, m.credits_remaining),
    provider_account = COALESCE(${v.providerAccount}, m.provider_account),
    queued_at = CASE WHEN ${v.acceptedFlag} THEN now() ELSE m.queued_at END,
    last_checked_at = CASE WHEN ${v.fromProvider} THEN now() ELSE m.last_checked_at END,
    updated_at = now()`;
}

/** One status report from the provider about the message with that provider id. */
export interface ProviderChange {
  providerMessageId: string;
  /** The recipient the news is about; absent or null when the provider named none. */
  recipient?: string | null;
  to: MessageStatus;
  occurredAt: Date;
  sentAt: Date | null;
  deliveredAt: Date | null;
  error: { code: string; message: string | null } | null;
}

export interface ProviderChangeResult {
  /** The provider id names a message of ours. */
  matched: boolean;
  /** The message after the move, or null when it did not move. */
  changed: Message | null;
}

/**
 * Splits updates into rounds in which each provider id and recipient appears once (one UPDATE can
 * move a row only once), each round grouped by the status reported.
 */
function providerRounds(
  updates: readonly ProviderChange[],
): Map<MessageStatus, { ord: number; update: ProviderChange }[]>[] {
  const rounds: Map<MessageStatus, { ord: number; update: ProviderChange }[]>[] = [];
  const seen = new Map<string, number>();
  updates.forEach((update, ord) => {
    // Keyed by id and recipient: the recipients of one batch share the provider id.
    const key = `${update.providerMessageId}\u0000${update.recipient ?? ''}`;
    const index = seen.get(key) ?? 0;
    seen.set(key, index + 1);
    const round = (rounds[index] ??= new Map());
    const group = round.get(update.to) ?? [];
    group.push({ ord, update });
    round.set(update.to, group);
  });
  return rounds;
}

function groupBy(
  results: readonly ProviderChangeResult[],
  updates: readonly ProviderChange[],
): Map<MessageStatus, Message[]> {
  const moved = new Map<MessageStatus, Message[]>();
  results.forEach((result, i) => {
    if (!result.changed) return;
    const list = moved.get(updates[i].to) ?? [];
    list.push(result.changed);
    moved.set(updates[i].to, list);
  });
  return moved;
}
