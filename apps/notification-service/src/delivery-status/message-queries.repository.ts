import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  CLAIMABLE_STATUS,
  WITH_PROVIDER_STATUSES,
  INITIAL_SCHEDULED_STATUS,
  type MessageStatus,
  STATUS_SQL,
  statusListSql,
  UNFINISHED_STATUSES,
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
import type { Message } from './message';
import {
  MAX_TIMELINE_EVENTS,
  type MessageListEntry,
  type MessageQuery,
  searchConditions,
} from './message-search';
import type { TimelineEvent } from './message-timeline';

/** A timeline row with the message it belongs to. */
export interface MessageTimelineEvent extends TimelineEvent {
  messageId: string;
}

/** A message the provider holds, due a poll about its status. */
export interface PollDue {
  id: string;
  providerMessageId: string;
  /** The account that took it, which alone knows its id (null: from before accounts). */
  account: string | null;
}

/** Every unfinished message counted once, as both GET /v1/queue and the /metrics gauges see it. */
export interface Backlog {
  /** Messages in each unfinished status; a message a worker has claimed is still pending. */
  byStatus: Record<MessageStatus, number>;
  /** Scheduled and due within the look-ahead asked for. */
  scheduledDueSoon: number;
  /** Pending, not claimed, and due now. */
  pendingDue: number;
  /** Pending and in a worker's hands. */
  claimed: number;
  /**
   * How long the oldest unsent message has waited since it became due (its scheduled time, else
   * its acceptance), claimed or backed off alike; null when none waits.
   */
  oldestPendingSeconds: number | null;
  /** Pending messages a worker has tried and given back after a provider error (RETRY_EVENTS). */
  inRetry: number;
  /** How far past its time the most overdue scheduled message is; null when none is. */
  scheduledOverdueSeconds: number | null;
  handedOverLast10s: number;
  handedOverLast60s: number;
  /** The provider's answer to the latest hand-over carries the account's credits. */
  creditsRemaining: number | null;
  creditsAsOf: Date | null;
}

/** One provider account's recent hand-overs and last known credits. */
export interface AccountActivity {
  account: string;
  handedOverLast10s: number;
  handedOverLast60s: number;
  creditsRemaining: number | null;
  creditsAsOf: Date | null;
}

const PENDING_UNCLAIMED_DUE = `status = ${STATUS_SQL[CLAIMABLE_STATUS]} AND claimed_at IS NULL AND next_attempt_at <= now()`;
const SCHEDULED = `status = ${STATUS_SQL[INITIAL_SCHEDULED_STATUS]}`;
/**
 * The timeline rows of a send that ended in a provider error and gave the message back to wait
 * (provider-error-policy.ts): a message with one of them and still pending is "in retry".
 */
export const RETRY_EVENTS = [
  'provider_failed',
  'provider_unreachable',
  'provider_unavailable',
  'provider_key_refused',
  'paused_insufficient_credits',
  'rate_limited',
  'attempt_failed',
] as const;

/**
 * The reads of messages that other folders ask for by name, so the SQL over the rows the
 * lifecycle writes lives beside it.
 */
@Injectable()
export class MessageQueriesRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async findById(id: string): Promise<Message | null> {
    const rows: MessageRow[] = await this.db.query(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = $1`,
      [id],
    );
    return rows.length ? toMessage(rows[0]) : null;
  }

  /**
   * Pending messages that are due and unclaimed, oldest first: candidates whose job may have been
   * lost (Redis restart or flush, crash between commit and enqueue). The caller checks the queue.
   */
  async findDuePending(dueBefore: Date, limit: number): Promise<DispatchRef[]> {
    const rows: DispatchRow[] = await this.db.query(
      `SELECT ${DISPATCH_COLUMNS} FROM messages
       WHERE status = $3 AND claimed_at IS NULL AND next_attempt_at <= $1
       ORDER BY next_attempt_at LIMIT $2`,
      [dueBefore, limit, CLAIMABLE_STATUS],
    );
    return rows.map(toDispatchRef);
  }

  /** Scheduled messages whose time falls before `horizon`: they get their delayed job now. */
  async findScheduledBefore(horizon: Date, limit: number): Promise<DispatchRef[]> {
    const rows: DispatchRow[] = await this.db.query(
      `SELECT ${DISPATCH_COLUMNS} FROM messages
       WHERE status = $3 AND next_attempt_at <= $1
       ORDER BY next_attempt_at LIMIT $2`,
      [horizon, limit, INITIAL_SCHEDULED_STATUS],
    );
    return rows.map(toDispatchRef);
  }

  /**
   * Messages the provider holds that are due a poll, most overdue first. With `first` the quiet
   * time before the first poll, a message last changed at `t` is polled once each time its
   * quiet time passes 1, 2, 5, 15 and 60 × `first`, then every 60 × `first` (all relative
   * to `t`, so a status change starts the schedule over): due when it was not checked since the
   * latest point passed.
   */
  async findDueForPoll(now: Date, first: number, limit: number): Promise<PollDue[]> {
    const rows: { id: string; provider_message_id: string; provider_account: string | null }[] =
      await this.db.query(
        `SELECT id, provider_message_id, provider_account FROM (
       -- One row per provider request: one answer covers all the recipients of a batch.
       SELECT DISTINCT ON (m.provider_message_id, m.provider_account)
         m.id, m.provider_message_id, m.provider_account,
         m.updated_at + p.point_ms * interval '1 millisecond' AS due
       FROM messages m
       CROSS JOIN LATERAL (
         SELECT extract(epoch FROM ($1::timestamptz - m.updated_at)) * 1000 AS quiet_ms
       ) q
       CROSS JOIN LATERAL (
         SELECT CASE
           WHEN q.quiet_ms >= 60 * $2 THEN 60 * $2 * floor(q.quiet_ms / (60 * $2))
           WHEN q.quiet_ms >= 15 * $2 THEN 15 * $2
           WHEN q.quiet_ms >= 5 * $2 THEN 5 * $2
           WHEN q.quiet_ms >= 2 * $2 THEN 2 * $2
           ELSE $2::double precision
         END AS point_ms
       ) p
       WHERE m.status = ANY($4::text[]) AND m.provider_message_id IS NOT NULL
         AND m.updated_at <= $1::timestamptz - $2 * interval '1 millisecond'
         AND (m.last_checked_at IS NULL
              OR m.last_checked_at < m.updated_at + p.point_ms * interval '1 millisecond')
       ORDER BY m.provider_message_id, m.provider_account, due
       ) per_request
       ORDER BY due
       LIMIT $3`,
        [now, first, limit, WITH_PROVIDER_STATUSES],
      );
    return rows.map((r) => ({
      id: r.id,
      providerMessageId: r.provider_message_id,
      account: r.provider_account,
    }));
  }

  /** Newest first, keyset-paged on (submitted_at, id). */
  async search(query: MessageQuery, limit: number): Promise<MessageListEntry[]> {
    const { where, params } = searchConditions(query);
    params.push(limit);
    const rows: (MessageRow & ListExtras)[] = await this.db.query(
      `SELECT ${M_COLUMNS}, n.team, n.template_key, n.reference,
         to_char(m.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at,
         r.id AS resent_as
       FROM messages m
       JOIN notifications n ON n.id = m.notification_id
       LEFT JOIN messages r ON r.resend_of = m.id
       WHERE ${where.join(' AND ')}
       ORDER BY m.submitted_at DESC, m.id DESC
       LIMIT $${params.length}`,
      params,
    );
    return rows.map((row) => ({
      message: toMessage(row),
      team: row.team,
      templateKey: row.template_key,
      reference: row.reference,
      cursorAt: row.cursor_at,
      resentAs: row.resent_as,
    }));
  }

  async countMatching(query: MessageQuery): Promise<number> {
    const { where, params } = searchConditions(query);
    const rows: { n: number }[] = await this.db.query(
      `SELECT count(*)::int AS n FROM messages m JOIN notifications n ON n.id = m.notification_id
       WHERE ${where.join(' AND ')}`,
      params,
    );
    return rows[0].n;
  }

  /** Ids only, oldest first: the order a bulk resend sends them in. */
  async idsMatching(query: MessageQuery, limit: number): Promise<string[]> {
    const { where, params } = searchConditions(query);
    params.push(limit);
    const rows: { id: string }[] = await this.db.query(
      `SELECT m.id FROM messages m JOIN notifications n ON n.id = m.notification_id
       WHERE ${where.join(' AND ')} ORDER BY m.submitted_at, m.id LIMIT $${params.length}`,
      params,
    );
    return rows.map((row) => row.id);
  }

  /** A notification's first `limit` messages, by submission then recipient. */
  async forNotification(notificationId: string, limit: number): Promise<Message[]> {
    const rows: MessageRow[] = await this.db.query(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE notification_id = $1
       ORDER BY submitted_at, recipient LIMIT $2`,
      [notificationId, limit],
    );
    return rows.map(toMessage);
  }

  /** Each notification's messages counted by status (every message, however many). */
  async statusCounts(notificationIds: string[]): Promise<Map<string, Record<string, number>>> {
    const counts = new Map<string, Record<string, number>>();
    if (notificationIds.length === 0) return counts;
    const rows: { notification_id: string; status: string; n: number }[] = await this.db.query(
      `SELECT notification_id, status, count(*)::int AS n FROM messages
       WHERE notification_id = ANY($1::uuid[]) GROUP BY notification_id, status`,
      [notificationIds],
    );
    for (const row of rows) {
      const entry = counts.get(row.notification_id) ?? {};
      entry[row.status] = row.n;
      counts.set(row.notification_id, entry);
    }
    return counts;
  }

  /**
   * The timelines of several messages, each oldest first, at most `perMessage` rows for each
   * message asked about on average (a message has at most 6 today).
   */
  async timelines(messageIds: string[], perMessage: number): Promise<MessageTimelineEvent[]> {
    if (messageIds.length === 0) return [];
    const rows: (EventRow & { message_id: string })[] = await this.db.query(
      `SELECT message_id, type, status, source, occurred_at, details FROM message_events
       WHERE message_id = ANY($1::uuid[]) ORDER BY id LIMIT $2`,
      [messageIds, messageIds.length * perMessage],
    );
    return rows.map((row) => ({ messageId: row.message_id, ...toTimelineEvent(row) }));
  }

  /** Oldest first, at most MAX_TIMELINE_EVENTS (a message has at most 6 today). */
  async timeline(messageId: string): Promise<TimelineEvent[]> {
    const rows: EventRow[] = await this.db.query(
      `SELECT type, status, source, occurred_at, details FROM message_events
       WHERE message_id = $1 ORDER BY id LIMIT $2`,
      [messageId, MAX_TIMELINE_EVENTS],
    );
    return rows.map(toTimelineEvent);
  }

  /**
   * One pass over the unfinished messages only (the partial indexes on scheduled/pending and
   * queued/sent), so its cost follows the backlog, not the history; the hand-over rates and the
   * credits come off the `queued_at` index.
   */
  async backlog(dueSoonMs = 0): Promise<Backlog> {
    const [row] = await this.db.query<BacklogRow[]>(
      `SELECT b.*, last.credits_remaining, last.queued_at AS credits_as_of
       FROM (
         SELECT
           ${UNFINISHED_STATUSES.map(
             (status) => `count(*) FILTER (WHERE status = ${STATUS_SQL[status]})::int AS ${status}`,
           ).join(',\n           ')},
           count(*) FILTER (WHERE ${SCHEDULED}
             AND next_attempt_at <= now() + $1 * interval '1 millisecond')::int AS scheduled_due_soon,
           count(*) FILTER (WHERE ${PENDING_UNCLAIMED_DUE})::int AS pending_due,
           count(*) FILTER (WHERE status = ${STATUS_SQL[CLAIMABLE_STATUS]}
             AND claimed_at IS NOT NULL)::int AS claimed,
           -- From when it became due, not from its next attempt: a back-off or a claim moves
           -- next_attempt_at, and an age that restarts at each of them never reaches a threshold.
           extract(epoch FROM now() - min(COALESCE(scheduled_at, submitted_at)) FILTER (
             WHERE status IN (${statusListSql(UNSENT_STATUSES)})
               AND COALESCE(scheduled_at, submitted_at) <= now()))::float8 AS oldest_pending_seconds,
           -- Every give-back moves dispatch_seq: a fresh backlog costs no timeline look-up.
           count(*) FILTER (WHERE status = ${STATUS_SQL[CLAIMABLE_STATUS]} AND dispatch_seq > 0
             AND EXISTS (
             SELECT 1 FROM message_events e WHERE e.message_id = messages.id
               AND e.type IN (${RETRY_EVENTS.map((t) => `'${t}'`).join(', ')})))::int AS in_retry,
           extract(epoch FROM now() - min(next_attempt_at) FILTER (
             WHERE ${SCHEDULED} AND next_attempt_at <= now()))::float8 AS scheduled_overdue_seconds,
           (SELECT count(*)::int FROM messages WHERE queued_at > now() - interval '10 seconds')
             AS handed_over_last_10s,
           (SELECT count(*)::int FROM messages WHERE queued_at > now() - interval '60 seconds')
             AS handed_over_last_60s
         FROM messages
         WHERE status IN (${statusListSql(UNFINISHED_STATUSES)})
       ) b
       LEFT JOIN LATERAL (
         SELECT credits_remaining, queued_at FROM messages
         WHERE queued_at IS NOT NULL AND credits_remaining IS NOT NULL
         ORDER BY queued_at DESC LIMIT 1
       ) last ON true`,
      [dueSoonMs],
    );
    const byStatus = {} as Record<MessageStatus, number>;
    for (const status of UNFINISHED_STATUSES) byStatus[status] = row[status] ?? 0;
    return {
      byStatus,
      scheduledDueSoon: row.scheduled_due_soon,
      pendingDue: row.pending_due,
      claimed: row.claimed,
      oldestPendingSeconds:
        row.oldest_pending_seconds === null ? null : Math.max(row.oldest_pending_seconds, 0),
      inRetry: row.in_retry,
      scheduledOverdueSeconds: row.scheduled_overdue_seconds,
      handedOverLast10s: row.handed_over_last_10s,
      handedOverLast60s: row.handed_over_last_60s,
      creditsRemaining: row.credits_remaining,
      creditsAsOf: row.credits_as_of,
    };
  }

  /**
   * Each account's hand-overs in the last 10 and 60 s (recipients, as `backlog` counts them) and
   * its credits as of its latest hand-over, off the `queued_at` index. A row from before accounts
   * (null) counts as `legacy`'s, the account it went through.
   */
  async byAccount(accounts: readonly string[], legacy: string): Promise<AccountActivity[]> {
    const rows: {
      account: string;
      last_10s: number;
      last_60s: number;
      credits_remaining: number | null;
      credits_as_of: Date | null;
    }[] = await this.db.query(
      `SELECT a.account,
         (SELECT count(*)::int FROM messages
           WHERE queued_at > now() - interval '10 seconds'
             AND COALESCE(provider_account, $2) = a.account) AS last_10s,
         (SELECT count(*)::int FROM messages
           WHERE queued_at > now() - interval '60 seconds'
             AND COALESCE(provider_account, $2) = a.account) AS last_60s,
         last.credits_remaining, last.queued_at AS credits_as_of
       FROM unnest($1::text[]) WITH ORDINALITY AS a(account, ord)
       LEFT JOIN LATERAL (
         SELECT credits_remaining, queued_at FROM messages
         WHERE queued_at IS NOT NULL AND credits_remaining IS NOT NULL
           AND COALESCE(provider_account, $2) = a.account
         ORDER BY queued_at DESC LIMIT 1
       ) last ON true
       ORDER BY a.ord`,
      [accounts, legacy],
    );
    return rows.map((r) => ({
      account: r.account,
      handedOverLast10s: r.last_10s,
      handedOverLast60s: r.last_60s,
      creditsRemaining: r.credits_remaining,
      creditsAsOf: r.credits_as_of,
    }));
  }

  /**
   * A team's unsent messages (scheduled or pending), through the partial index on them; stops
   * counting past `atMost`, so a team far over its cap costs no more than one at it.
   */
  async unsentOfTeam(team: string, atMost: number): Promise<number> {
    const [row] = await this.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM (
         SELECT 1 FROM messages
         WHERE team = $1 AND status IN (${statusListSql(UNSENT_STATUSES)})
         LIMIT $2
       ) AS unsent`,
      [team, atMost],
    );
    return row?.n ?? 0;
  }

  /**
   * Each team's unsent messages (scheduled or pending) by priority (1 high, 2 normal, 3 low),
   * through the partial index on them: its cost follows the backlog, not the history. Only the
   * `teams` named when given; at most 1,000 teams (the teams list's bound) either way.
   */
  async backlogByTeam(
    teams?: readonly string[],
  ): Promise<{ team: string; high: number; normal: number; low: number }[]> {
    return this.db.query(
      `SELECT team,
         count(*) FILTER (WHERE priority = 1)::int AS high,
         count(*) FILTER (WHERE priority = 2)::int AS normal,
         count(*) FILTER (WHERE priority = 3)::int AS low
       FROM messages
       WHERE status IN (${statusListSql(UNSENT_STATUSES)}) AND team IS NOT NULL
         AND ($1::text[] IS NULL OR team = ANY($1::text[]))
       GROUP BY team ORDER BY team LIMIT 1000`,
      [teams ?? null],
    );
  }

  /**
   * Messages handed to the provider in the last `seconds`, by team (null: a message older than
   * its team column), off the `queued_at` index: what share of the rate each team is getting.
   * The 1,000 busiest teams (the teams list's bound).
   */
  async handedOverByTeam(seconds: number): Promise<{ team: string | null; n: number }[]> {
    return this.db.query(
      `SELECT team, count(*)::int AS n FROM messages
       WHERE queued_at > now() - $1 * interval '1 second'
       GROUP BY team ORDER BY n DESC LIMIT 1000`,
      [seconds],
    );
  }
}

type BacklogRow = Partial<Record<MessageStatus, number>> & {
  scheduled_due_soon: number;
  pending_due: number;
  claimed: number;
  oldest_pending_seconds: number | null;
  in_retry: number;
  scheduled_overdue_seconds: number | null;
  handed_over_last_10s: number;
  handed_over_last_60s: number;
  credits_remaining: number | null;
  credits_as_of: Date | null;
};

/** The search's columns beside the message's own. */
interface ListExtras {
  team: string;
  template_key: string;
  reference: string | null;
  cursor_at: string;
  resent_as: string | null;
}

interface EventRow {
  type: string;
  status: string | null;
  source: string;
  occurred_at: Date;
  details: Record<string, unknown> | null;
}

function toTimelineEvent(row: EventRow): TimelineEvent {
  return {
    type: row.type,
    status: row.status,
    source: row.source,
    occurredAt: row.occurred_at,
    details: row.details,
  };
}
