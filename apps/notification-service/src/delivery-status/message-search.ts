import type { MessageCategory } from '../common/message-category';
import type { Message } from './message';
/*
 * The search over messages for people looking for one (GET /v1/messages, one message, bulk
 * resend): the filter, the row it lists and the timeline it shows. Every value reaches SQL as a
 * parameter.
 */

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
  category?: MessageCategory;
  since?: Date;
  until?: Date;
  /** Only messages no other message resends yet. */
  notResent?: boolean;
  /** Keyset: strictly older than this (submitted_at as microsecond text, id). */
  before?: { at: string; id: string };
}

/** A message found by the search, with what its notification and a resend add to it. */
export interface MessageListEntry {
  message: Message;
  team: string;
  templateKey: string;
  reference: string | null;
  /** submitted_at to the microsecond: a millisecond Date would skip or repeat rows at a page edge. */
  cursorAt: string;
  /** The message sent again in this one's place, if any. */
  resentAs: string | null;
}

/**
 * Timeline rows one message answer lists. A message has at most 6 today (its first row, four
 * forward status changes, `resent`); the bound keeps the read bounded whatever is added later.
 */
export const MAX_TIMELINE_EVENTS = 100;

/** WHERE conditions (over `messages m JOIN notifications n`) and their parameters. */
export function searchConditions(query: MessageQuery): { where: string[]; params: unknown[] } {
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
  if (query.category !== undefined) add((p) => `m.category = ${p}`, query.category);
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
