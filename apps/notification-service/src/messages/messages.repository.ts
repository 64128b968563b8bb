import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

export interface MessageQuery {
  /** null: every team (admin keys). */
  team: string | null;
  id?: string;
  to?: string;
  providerMessageId?: string;
  notificationId?: string;
  reference?: string;
  statuses?: readonly string[];
  errorCode?: string;
  template?: string;
  since?: Date;
  until?: Date;
  /** Only messages no other message resends yet. */
  notResent?: boolean;
  /** Keyset: strictly older than this (submitted_at as microsecond text, id). */
  before?: { at: string; id: string };
}

export interface MessageListRow {
  id: string;
  notification_id: string;
  team: string;
  template_key: string;
  reference: string | null;
  recipient: string;
  status: string;
  provider_message_id: string | null;
  error_code: string | null;
  error_message: string | null;
  attempts: number;
  segments: number;
  submitted_at: Date;
  /** submitted_at to the microsecond: a millisecond Date would skip or repeat rows at a page edge. */
  cursor_at: string;
  queued_at: Date | null;
  delivered_at: Date | null;
  completed_at: Date | null;
  resend_of: string | null;
  resent_as: string | null;
}

export interface EventRow {
  type: string;
  status: string | null;
  source: string;
  occurred_at: Date;
  details: Record<string, unknown> | null;
}

/**
 * Timeline rows one message answer lists. A message has at most 6 today (its first row, four
 * forward status changes, `resent`); the bound keeps the read bounded whatever is added later.
 */
export const MAX_TIMELINE_EVENTS = 100;

/** Read side of messages for people looking for one: search, one message's timeline, counts. */
@Injectable()
export class MessagesRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Newest first, keyset-paged on (submitted_at, id). */
  async find(query: MessageQuery, limit: number): Promise<MessageListRow[]> {
    const { where, params } = conditions(query);
    params.push(limit);
    return this.db.query(
      `SELECT m.id, m.notification_id, n.team, n.template_key, n.reference, m.recipient, m.status,
         m.provider_message_id, m.error_code, m.error_message, m.attempts, m.segments,
         m.submitted_at, to_char(m.submitted_at AT TIME ZONE 'UTC',
           'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at,
         m.queued_at, m.delivered_at, m.completed_at, m.resend_of, r.id AS resent_as
       FROM messages m
       JOIN notifications n ON n.id = m.notification_id
       LEFT JOIN messages r ON r.resend_of = m.id
       WHERE ${where.join(' AND ')}
       ORDER BY m.submitted_at DESC, m.id DESC
       LIMIT $${params.length}`,
      params,
    );
  }

  async count(query: MessageQuery): Promise<number> {
    const { where, params } = conditions(query);
    const rows: { n: number }[] = await this.db.query(
      `SELECT count(*)::int AS n FROM messages m JOIN notifications n ON n.id = m.notification_id
       WHERE ${where.join(' AND ')}`,
      params,
    );
    return rows[0].n;
  }

  /** Ids only, oldest first: the order a bulk resend sends them in. */
  async ids(query: MessageQuery, limit: number): Promise<string[]> {
    const { where, params } = conditions(query);
    params.push(limit);
    const rows: { id: string }[] = await this.db.query(
      `SELECT m.id FROM messages m JOIN notifications n ON n.id = m.notification_id
       WHERE ${where.join(' AND ')} ORDER BY m.submitted_at, m.id LIMIT $${params.length}`,
      params,
    );
    return rows.map((row) => row.id);
  }

  /** Oldest first, at most MAX_TIMELINE_EVENTS (a message has at most 6 today). */
  events(messageId: string): Promise<EventRow[]> {
    return this.db.query(
      `SELECT type, status, source, occurred_at, details FROM message_events
       WHERE message_id = $1 ORDER BY id LIMIT $2`,
      [messageId, MAX_TIMELINE_EVENTS],
    );
  }
}

function conditions(query: MessageQuery): { where: string[]; params: unknown[] } {
  const params: unknown[] = [];
  const where: string[] = ['true'];
  const add = (sql: (ref: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (query.team !== null) add((p) => `n.team = ${p}`, query.team);
  if (query.id !== undefined) add((p) => `m.id = ${p}::uuid`, query.id);
  if (query.to !== undefined) add((p) => `m.recipient = ${p}`, query.to);
  if (query.providerMessageId !== undefined) {
    add((p) => `m.provider_message_id = ${p}`, query.providerMessageId);
  }
  if (query.notificationId !== undefined) {
    add((p) => `m.notification_id = ${p}::uuid`, query.notificationId);
  }
  if (query.reference !== undefined) add((p) => `n.reference = ${p}`, query.reference);
  if (query.statuses !== undefined) add((p) => `m.status = ANY(${p}::text[])`, query.statuses);
  if (query.errorCode !== undefined) add((p) => `m.error_code = ${p}`, query.errorCode);
  if (query.template !== undefined) add((p) => `n.template_key = ${p}`, query.template);
  if (query.since !== undefined) add((p) => `m.submitted_at >= ${p}`, query.since);
  if (query.until !== undefined) add((p) => `m.submitted_at < ${p}`, query.until);
  if (query.notResent) {
    where.push(`NOT EXISTS (SELECT 1 FROM messages r WHERE r.resend_of = m.id)`);
  }
  if (query.before !== undefined) {
    params.push(query.before.at, query.before.id);
    where.push(
      `(m.submitted_at, m.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`,
    );
  }
  return { where, params };
}
