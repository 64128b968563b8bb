import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import type { EventSource } from './entities/message-event.entity';
import { Message } from './entities/message.entity';
import { type MessageStatus, statusesBefore } from '../delivery-status/message-status';

export interface TransitionOptions {
  source: EventSource;
  /** Timeline entry type; defaults to the new status. */
  type?: string;
  occurredAt?: Date;
  details?: Record<string, unknown> | null;
  /** Same key twice for one message → the second is a no-op (replayed provider events). */
  dedupeKey?: string | null;
  errorCode?: string | null;
  errorMessage?: string | null;
  sentAt?: Date | null;
  deliveredAt?: Date | null;
}

export interface AcceptedByProvider {
  providerMessageId: string;
  creditsUsed: number | null;
  creditsRemaining: number | null;
}

export interface DispatchRef {
  id: string;
  dispatchSeq: number;
  priority: number;
  nextAttemptAt: Date | null;
}

const MESSAGE_COLUMNS = `id, notification_id, recipient, body, sender_id, characters, encoding, segments,
  status, priority, scheduled_at, expires_at, next_attempt_at, dispatch_seq, attempts, claimed_at,
  claim_token, provider_message_id, credits_used, credits_remaining, error_code, error_message,
  submitted_at, queued_at, sent_at, delivered_at, completed_at, last_checked_at, updated_at`;

/**
 * Every change of a message's state, each one a single SQL statement that checks the current state
 * and writes the timeline row in the same breath: the database, not the caller, decides whether a
 * change is legal, which is what keeps concurrent workers, webhooks and polls honest.
 */
@Injectable()
export class MessagesRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async findById(id: string): Promise<Message | null> {
    const rows: MessageRow[] = await this.db.query(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = $1`,
      [id],
    );
    return rows.length ? toMessage(rows[0]) : null;
  }

  /**
   * Moves a message forward to `to` if the lifecycle allows it from its current status, and records
   * the event. Returns the updated message, or null when the move was not legal (already there,
   * already final) or the event was a duplicate.
   */
  async transition(
    id: string,
    to: MessageStatus,
    options: TransitionOptions,
    manager: EntityManager = this.db.manager,
  ): Promise<Message | null> {
    const terminal = ['delivered', 'failed', 'expired', 'canceled'].includes(to);
    const rows: MessageRow[] = await manager.query(
      `WITH updated AS (
         UPDATE messages SET
           status = $2,
           error_code = COALESCE($3, error_code),
           error_message = COALESCE($4, error_message),
           sent_at = COALESCE(sent_at, $5, CASE WHEN $2 IN ('sent', 'delivered') THEN $8::timestamptz END),
           delivered_at = COALESCE(delivered_at, $6, CASE WHEN $2 = 'delivered' THEN $8::timestamptz END),
           completed_at = CASE WHEN $7 THEN now() ELSE completed_at END,
           claimed_at = CASE WHEN $7 THEN NULL ELSE claimed_at END,
           claim_token = CASE WHEN $7 THEN NULL ELSE claim_token END,
           updated_at = now()
         WHERE id = $1 AND status = ANY($9::text[])
           AND NOT EXISTS (SELECT 1 FROM message_events e WHERE e.message_id = $1 AND e.dedupe_key = $10)
         RETURNING ${MESSAGE_COLUMNS}
       ), event AS (
         INSERT INTO message_events (message_id, type, status, source, dedupe_key, details, occurred_at)
         SELECT id, $11, status, $12, $10, $13::jsonb, $8 FROM updated
       )
       SELECT * FROM updated`,
      [
        id,
        to,
        options.errorCode ?? null,
        options.errorMessage ?? null,
        options.sentAt ?? null,
        options.deliveredAt ?? null,
        terminal,
        options.occurredAt ?? new Date(),
        statusesBefore(to),
        options.dedupeKey ?? null,
        options.type ?? to,
        options.source,
        options.details ? JSON.stringify(options.details) : null,
      ],
    );
    return rows.length ? toMessage(rows[0]) : null;
  }

  /** Adds a timeline entry that is not a status change (an attempt that failed, a retry planned). */
  async addEvent(
    id: string,
    type: string,
    source: EventSource,
    details: Record<string, unknown> | null,
    manager: EntityManager = this.db.manager,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO message_events (message_id, type, status, source, details)
       SELECT id, $2, status, $3, $4::jsonb FROM messages WHERE id = $1`,
      [id, type, source, details ? JSON.stringify(details) : null],
    );
  }

  /**
   * Takes the message for one provider call. Only a pending, unclaimed, unexpired message can be
   * claimed, so two workers holding jobs for the same message never both send it.
   */
  async claim(id: string, token: string): Promise<Message | null> {
    const rows: MessageRow[] = await this.db.query(
      // Wrapped in a CTE so the driver returns plain rows (a bare UPDATE … RETURNING comes back
      // as [rows, count]).
      `WITH claimed AS (
         UPDATE messages SET claimed_at = now(), claim_token = $2, attempts = attempts + 1, updated_at = now()
         WHERE id = $1 AND status = 'pending' AND claimed_at IS NULL
           AND (expires_at IS NULL OR expires_at > now())
         RETURNING ${MESSAGE_COLUMNS}
       )
       SELECT * FROM claimed`,
      [id, token],
    );
    return rows.length ? toMessage(rows[0]) : null;
  }

  /** Scheduled → pending once its time has come (the job that found it due does this). */
  async promoteScheduled(id: string): Promise<Message | null> {
    return this.transition(id, 'pending', { source: 'worker', type: 'pending' });
  }

  /** The provider accepted the message: store its id and move to queued, releasing the claim. */
  async recordProviderAccepted(
    id: string,
    token: string,
    accepted: AcceptedByProvider,
  ): Promise<Message | null> {
    return this.db.transaction(async (manager) => {
      const rows: MessageRow[] = await manager.query(
        `WITH updated AS (
           UPDATE messages SET status = 'queued', provider_message_id = $3, credits_used = $4,
             credits_remaining = $5, queued_at = now(), claimed_at = NULL, claim_token = NULL,
             error_code = NULL, error_message = NULL, updated_at = now()
           WHERE id = $1 AND claim_token = $2 AND status = 'pending'
           RETURNING ${MESSAGE_COLUMNS}
         ), event AS (
           INSERT INTO message_events (message_id, type, status, source, details)
           SELECT id, 'queued', 'queued', 'worker',
             jsonb_build_object('provider_message_id', $3::text, 'credits_used', $4::int, 'attempt', attempts)
           FROM updated
         )
         SELECT * FROM updated`,
        [id, token, accepted.providerMessageId, accepted.creditsUsed, accepted.creditsRemaining],
      );
      return rows.length ? toMessage(rows[0]) : null;
    });
  }

  /**
   * Gives the claim back and plans the next attempt at `nextAttemptAt`. `countsAsAttempt` false
   * (a 429, a credits pause) undoes the attempt taken by the claim. Returns the new dispatch ref.
   */
  async releaseForRetry(
    id: string,
    token: string,
    nextAttemptAt: Date,
    countsAsAttempt: boolean,
    event: { type: string; details: Record<string, unknown> },
  ): Promise<DispatchRef | null> {
    const rows: { id: string; dispatch_seq: number; priority: number; next_attempt_at: Date }[] =
      await this.db.query(
        `WITH updated AS (
           UPDATE messages SET claimed_at = NULL, claim_token = NULL, next_attempt_at = $3,
             dispatch_seq = dispatch_seq + 1,
             attempts = CASE WHEN $4 THEN attempts ELSE attempts - 1 END, updated_at = now()
           WHERE id = $1 AND claim_token = $2 AND status = 'pending'
           RETURNING id, dispatch_seq, priority, next_attempt_at, status
         ), event AS (
           INSERT INTO message_events (message_id, type, status, source, details)
           SELECT id, $5, status, 'worker', $6::jsonb FROM updated
         )
         SELECT id, dispatch_seq, priority, next_attempt_at FROM updated`,
        [id, token, nextAttemptAt, countsAsAttempt, event.type, JSON.stringify(event.details)],
      );
    return rows.length ? toDispatchRef(rows[0]) : null;
  }

  /** Ends a claimed message as failed with the provider's (or our) error code. */
  async failClaimed(
    id: string,
    token: string,
    code: string,
    message: string,
  ): Promise<Message | null> {
    const rows: MessageRow[] = await this.db.query(
      `WITH updated AS (
         UPDATE messages SET status = 'failed', error_code = $3, error_message = $4,
           claimed_at = NULL, claim_token = NULL, completed_at = now(), updated_at = now()
         WHERE id = $1 AND claim_token = $2 AND status = 'pending'
         RETURNING ${MESSAGE_COLUMNS}
       ), event AS (
         INSERT INTO message_events (message_id, type, status, source, details)
         SELECT id, 'failed', 'failed', 'worker', jsonb_build_object('code', $3::text, 'message', $4::text, 'attempt', attempts)
         FROM updated
       )
       SELECT * FROM updated`,
      [id, token, code, message],
    );
    return rows.length ? toMessage(rows[0]) : null;
  }

  /** Cancels every message of a notification that has not been handed to the provider. */
  async cancelNotification(notificationId: string): Promise<Message[]> {
    const rows: MessageRow[] = await this.db.query(
      `WITH updated AS (
         UPDATE messages SET status = 'canceled', completed_at = now(), updated_at = now()
         WHERE notification_id = $1 AND status IN ('scheduled', 'pending') AND claimed_at IS NULL
         RETURNING ${MESSAGE_COLUMNS}
       ), event AS (
         INSERT INTO message_events (message_id, type, status, source)
         SELECT id, 'canceled', 'canceled', 'api' FROM updated
       )
       SELECT * FROM updated`,
      [notificationId],
    );
    return rows.map(toMessage);
  }

  /**
   * Pending messages that are due and unclaimed, oldest first: candidates whose job may have been
   * lost (Redis restart or flush, crash between commit and enqueue). The caller checks the queue.
   */
  async findDuePending(dueBefore: Date, limit: number): Promise<DispatchRef[]> {
    const rows: { id: string; dispatch_seq: number; priority: number; next_attempt_at: Date }[] =
      await this.db.query(
        `SELECT id, dispatch_seq, priority, next_attempt_at FROM messages
         WHERE status = 'pending' AND claimed_at IS NULL AND next_attempt_at <= $1
         ORDER BY next_attempt_at LIMIT $2`,
        [dueBefore, limit],
      );
    return rows.map(toDispatchRef);
  }

  /** Scheduled messages whose time falls before `horizon`: they get their delayed job now. */
  async findScheduledBefore(horizon: Date, limit: number): Promise<DispatchRef[]> {
    const rows: { id: string; dispatch_seq: number; priority: number; next_attempt_at: Date }[] =
      await this.db.query(
        `SELECT id, dispatch_seq, priority, next_attempt_at FROM messages
         WHERE status = 'scheduled' AND next_attempt_at <= $1
         ORDER BY next_attempt_at LIMIT $2`,
        [horizon, limit],
      );
    return rows.map(toDispatchRef);
  }

  /**
   * Claims older than `olderThan` whose worker never reported back (it died mid-call). The
   * message goes back to pending for another attempt; see docs/architecture.md for why this is
   * the one place a duplicate send remains possible.
   */
  async releaseStaleClaims(olderThan: Date): Promise<DispatchRef[]> {
    const rows: { id: string; dispatch_seq: number; priority: number; next_attempt_at: Date }[] =
      await this.db.query(
        `WITH updated AS (
           UPDATE messages SET claimed_at = NULL, claim_token = NULL, next_attempt_at = now(),
             dispatch_seq = dispatch_seq + 1, updated_at = now()
           WHERE status = 'pending' AND claimed_at IS NOT NULL AND claimed_at < $1
           RETURNING id, dispatch_seq, priority, next_attempt_at, status, claimed_at
         ), event AS (
           INSERT INTO message_events (message_id, type, status, source, details)
           SELECT id, 'claim_expired', status, 'sweeper',
             jsonb_build_object('reason', 'worker did not report the provider call back in time')
           FROM updated
         )
         SELECT id, dispatch_seq, priority, next_attempt_at FROM updated`,
        [olderThan],
      );
    return rows.map(toDispatchRef);
  }

  /** Messages never handed to the provider whose expires_at has passed become expired. */
  async expireOverdue(limit: number): Promise<number> {
    const rows: { id: string }[] = await this.db.query(
      `WITH due AS (
         SELECT id FROM messages
         WHERE status IN ('scheduled', 'pending') AND claimed_at IS NULL AND expires_at <= now()
         LIMIT $1 FOR UPDATE SKIP LOCKED
       ), updated AS (
         UPDATE messages m SET status = 'expired', error_code = 'expired',
           error_message = 'expires_at passed before the message was sent',
           completed_at = now(), updated_at = now()
         FROM due WHERE m.id = due.id
         RETURNING m.id, m.status
       ), event AS (
         INSERT INTO message_events (message_id, type, status, source, details)
         SELECT id, 'expired', 'expired', 'sweeper', '{"reason":"expires_at passed before sending"}'::jsonb FROM updated
       )
       SELECT id FROM updated`,
      [limit],
    );
    return rows.length;
  }
}

export interface MessageRow {
  id: string;
  notification_id: string;
  recipient: string;
  body: string;
  sender_id: string | null;
  characters: number;
  encoding: string;
  segments: number;
  status: MessageStatus;
  priority: number;
  scheduled_at: Date | null;
  expires_at: Date | null;
  next_attempt_at: Date | null;
  dispatch_seq: number;
  attempts: number;
  claimed_at: Date | null;
  claim_token: string | null;
  provider_message_id: string | null;
  credits_used: number | null;
  credits_remaining: number | null;
  error_code: string | null;
  error_message: string | null;
  submitted_at: Date;
  queued_at: Date | null;
  sent_at: Date | null;
  delivered_at: Date | null;
  completed_at: Date | null;
  last_checked_at: Date | null;
  updated_at: Date;
}

export function toMessage(row: MessageRow): Message {
  const m = new Message();
  m.id = row.id;
  m.notificationId = row.notification_id;
  m.recipient = row.recipient;
  m.body = row.body;
  m.senderId = row.sender_id;
  m.characters = row.characters;
  m.encoding = row.encoding;
  m.segments = row.segments;
  m.status = row.status;
  m.priority = row.priority;
  m.scheduledAt = row.scheduled_at;
  m.expiresAt = row.expires_at;
  m.nextAttemptAt = row.next_attempt_at;
  m.dispatchSeq = row.dispatch_seq;
  m.attempts = row.attempts;
  m.claimedAt = row.claimed_at;
  m.claimToken = row.claim_token;
  m.providerMessageId = row.provider_message_id;
  m.creditsUsed = row.credits_used;
  m.creditsRemaining = row.credits_remaining;
  m.errorCode = row.error_code;
  m.errorMessage = row.error_message;
  m.submittedAt = row.submitted_at;
  m.queuedAt = row.queued_at;
  m.sentAt = row.sent_at;
  m.deliveredAt = row.delivered_at;
  m.completedAt = row.completed_at;
  m.lastCheckedAt = row.last_checked_at;
  m.updatedAt = row.updated_at;
  return m;
}

function toDispatchRef(row: {
  id: string;
  dispatch_seq: number;
  priority: number;
  next_attempt_at: Date | null;
}): DispatchRef {
  return {
    id: row.id,
    dispatchSeq: row.dispatch_seq,
    priority: row.priority,
    nextAttemptAt: row.next_attempt_at,
  };
}
