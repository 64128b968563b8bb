import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

export type CallbackStatus = 'pending' | 'delivered' | 'failed';

/**
 * Callbacks one notification's list (or redelivery answer) shows, oldest status change first: a
 * notification's 1,000 recipients with four status changes each. Resends add callbacks to their
 * notification, so without a bound one list could grow past any size.
 */
export const MAX_CALLBACKS_LISTED = 4_000;

/** The columns a DeliveryRow is read from, in any query over callback_deliveries. */
const DELIVERY_COLUMNS = `id, notification_id, message_id, event_id, payload->>'event' AS event, status,
  attempts, last_status_code, last_error, next_attempt_at, created_at, updated_at, delivered_at,
  redelivered_at`;

export interface TeamSecret {
  team: string;
  secret: string;
  createdAt: Date;
}

export interface CallbackDelivery {
  id: string;
  notificationId: string;
  messageId: string;
  eventId: string;
  event: string | null;
  status: CallbackStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: Date;
  createdAt: Date;
  updatedAt: Date;
  deliveredAt: Date | null;
  redeliveredAt: Date | null;
}

/** Everything one attempt needs, read in one query. */
export interface DeliveryForAttempt {
  id: string;
  messageId: string;
  team: string;
  url: string;
  payload: unknown;
  status: CallbackStatus;
  attempts: number;
  /** Attempts made before the current round (0 unless the callback was redelivered). */
  attemptsBase: number;
}

/** Enough to plan a job for the delivery's next attempt. */
export interface DeliveryRef {
  id: string;
  attempts: number;
  nextAttemptAt: Date;
}

export interface AttemptFailure {
  statusCode: number | null;
  error: string;
  /** No attempt left: the delivery becomes failed. */
  final: boolean;
  nextAttemptAt: Date;
}

/**
 * Callback deliveries (created by the `message_events` trigger, see migration
 * 1764000000100-callback-trigger) and the teams' signing secrets. Every outcome is recorded with a
 * conditional UPDATE on the attempts count read before the request, so a job that Bull runs twice
 * records its attempt once.
 */
@Injectable()
export class CallbacksRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async findSecret(team: string): Promise<TeamSecret | null> {
    const rows: SecretRow[] = await this.db.query(
      `SELECT team, secret, created_at FROM team_callback_secrets WHERE team = $1`,
      [team],
    );
    return rows.length ? toSecret(rows[0]) : null;
  }

  /** Creates or replaces the team's secret. */
  async upsertSecret(team: string, secret: string): Promise<TeamSecret> {
    const rows: SecretRow[] = await this.db.query(
      `INSERT INTO team_callback_secrets (team, secret) VALUES ($1, $2)
       ON CONFLICT (team) DO UPDATE SET secret = EXCLUDED.secret, created_at = now()
       RETURNING team, secret, created_at`,
      [team, secret],
    );
    return toSecret(rows[0]);
  }

  /**
   * Stores `secret` unless the team has one already; returns the secret in force and whether it is
   * the one passed in. Two workers racing here both end up with the same secret.
   */
  async createSecretIfMissing(
    team: string,
    secret: string,
  ): Promise<{ secret: string; created: boolean }> {
    const inserted: { secret: string }[] = await this.db.query(
      `INSERT INTO team_callback_secrets (team, secret) VALUES ($1, $2)
       ON CONFLICT (team) DO NOTHING RETURNING secret`,
      [team, secret],
    );
    if (inserted.length) return { secret: inserted[0].secret, created: true };
    // A new statement, hence a new snapshot: it sees the row that made the insert a no-op.
    const existing = await this.findSecret(team);
    if (!existing) throw new Error(`The callback secret of team ${team} vanished while being read`);
    return { secret: existing.secret, created: false };
  }

  async findNotificationTeam(notificationId: string): Promise<string | null> {
    const rows: { team: string }[] = await this.db.query(
      `SELECT team FROM notifications WHERE id = $1`,
      [notificationId],
    );
    return rows.length ? rows[0].team : null;
  }

  /** Oldest status change first, at most MAX_CALLBACKS_LISTED. */
  async listForNotification(notificationId: string): Promise<CallbackDelivery[]> {
    const rows: DeliveryRow[] = await this.db.query(
      `SELECT ${DELIVERY_COLUMNS} FROM callback_deliveries WHERE notification_id = $1
       ORDER BY event_id LIMIT $2`,
      [notificationId, MAX_CALLBACKS_LISTED],
    );
    return rows.map(toDelivery);
  }

  /** Failed callbacks across notifications, most recently failed first. */
  async listFailed(team: string | null, limit: number): Promise<CallbackDelivery[]> {
    const rows: DeliveryRow[] = await this.db.query(
      `SELECT ${DELIVERY_COLUMNS} FROM callback_deliveries
       WHERE status = 'failed'
         AND ($1::text IS NULL OR notification_id IN (SELECT id FROM notifications WHERE team = $1))
       ORDER BY updated_at DESC, id DESC LIMIT $2`,
      [team, limit],
    );
    return rows.map(toDelivery);
  }

  /**
   * Gives the notification's failed callbacks a new round of attempts, due now; the dispatcher
   * sends them, each message's in the order of its status changes. Returns the callbacks re-armed,
   * the first MAX_CALLBACKS_LISTED of them (every failed one is re-armed).
   */
  async redeliverFailed(notificationId: string): Promise<CallbackDelivery[]> {
    const rows: DeliveryRow[] = await this.db.query(
      `WITH rearmed AS (
         UPDATE callback_deliveries
         SET status = 'pending', attempts_base = attempts, next_attempt_at = now(),
             redelivered_at = now(), updated_at = now()
         WHERE notification_id = $1 AND status = 'failed'
         RETURNING *)
       SELECT ${DELIVERY_COLUMNS} FROM rearmed ORDER BY event_id LIMIT $2`,
      [notificationId, MAX_CALLBACKS_LISTED],
    );
    return rows.map(toDelivery);
  }

  async findForAttempt(id: string): Promise<DeliveryForAttempt | null> {
    const rows: {
      id: string;
      message_id: string;
      team: string;
      url: string;
      payload: unknown;
      status: CallbackStatus;
      attempts: number;
      attempts_base: number;
    }[] = await this.db.query(
      `SELECT d.id, d.message_id, n.team, d.url, d.payload, d.status, d.attempts, d.attempts_base
       FROM callback_deliveries d JOIN notifications n ON n.id = d.notification_id
       WHERE d.id = $1`,
      [id],
    );
    if (!rows.length) return null;
    const r = rows[0];
    return {
      id: r.id,
      messageId: r.message_id,
      team: r.team,
      url: r.url,
      payload: r.payload,
      status: r.status,
      attempts: r.attempts,
      attemptsBase: r.attempts_base,
    };
  }

  /** False when the attempt was already recorded (or the delivery is no longer pending). */
  async recordDelivered(id: string, attemptsBefore: number, statusCode: number): Promise<boolean> {
    // A bare UPDATE … RETURNING comes back from the driver as [rows, count], never empty: the
    // CTE makes it a SELECT, whose rows say whether this attempt was recorded here.
    const rows: { id: string }[] = await this.db.query(
      `WITH updated AS (
         UPDATE callback_deliveries SET status = 'delivered', attempts = attempts + 1,
           last_status_code = $3, last_error = NULL, delivered_at = now(), updated_at = now()
         WHERE id = $1 AND status = 'pending' AND attempts = $2
         RETURNING id)
       SELECT id FROM updated`,
      [id, attemptsBefore, statusCode],
    );
    return rows.length > 0;
  }

  /** False when the attempt was already recorded (or the delivery is no longer pending). */
  async recordFailure(
    id: string,
    attemptsBefore: number,
    failure: AttemptFailure,
  ): Promise<boolean> {
    const rows: { id: string }[] = await this.db.query(
      `WITH updated AS (
         UPDATE callback_deliveries SET status = CASE WHEN $5 THEN 'failed' ELSE 'pending' END,
           attempts = attempts + 1, last_status_code = $3, last_error = $4,
           next_attempt_at = CASE WHEN $5 THEN next_attempt_at ELSE $6 END, updated_at = now()
         WHERE id = $1 AND status = 'pending' AND attempts = $2
         RETURNING id)
       SELECT id FROM updated`,
      [id, attemptsBefore, failure.statusCode, failure.error, failure.final, failure.nextAttemptAt],
    );
    return rows.length > 0;
  }

  /** Plans a pending attempt for later without counting it (the team was at its cap). */
  async postpone(id: string, attempts: number, until: Date): Promise<void> {
    await this.db.query(
      `UPDATE callback_deliveries SET next_attempt_at = $3, updated_at = now()
       WHERE id = $1 AND status = 'pending' AND attempts = $2`,
      [id, attempts, until],
    );
  }

  /** The message's oldest pending callback: the only one of the message that may be sent now. */
  async nextForMessage(messageId: string): Promise<DeliveryRef | null> {
    const rows: RefRow[] = await this.db.query(
      `SELECT id, attempts, next_attempt_at FROM callback_deliveries
       WHERE message_id = $1 AND status = 'pending'
       ORDER BY event_id LIMIT 1`,
      [messageId],
    );
    return rows.length ? toRef(rows[0]) : null;
  }

  /**
   * Runs `work` on up to `limit` pending callbacks that are due and first in line for their
   * message, holding their row locks until it returns; rows being recorded right now are skipped.
   */
  async withDueBatch<T>(limit: number, work: (refs: DeliveryRef[]) => Promise<T>): Promise<T> {
    return this.db.transaction(async (manager) => {
      const rows: RefRow[] = await manager.query(
        `SELECT d.id, d.attempts, d.next_attempt_at FROM callback_deliveries d
         WHERE d.status = 'pending' AND d.next_attempt_at <= now()
           AND NOT EXISTS (
             SELECT 1 FROM callback_deliveries older
             WHERE older.message_id = d.message_id AND older.status = 'pending'
               AND older.event_id < d.event_id)
         ORDER BY d.next_attempt_at, d.event_id
         LIMIT $1
         FOR UPDATE OF d SKIP LOCKED`,
        [limit],
      );
      return work(rows.map(toRef));
    });
  }
}

interface SecretRow {
  team: string;
  secret: string;
  created_at: Date;
}

interface RefRow {
  id: string;
  attempts: number;
  next_attempt_at: Date;
}

interface DeliveryRow {
  id: string;
  notification_id: string;
  message_id: string;
  event_id: string;
  event: string | null;
  status: CallbackStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: Date;
  created_at: Date;
  updated_at: Date;
  delivered_at: Date | null;
  redelivered_at: Date | null;
}

function toSecret(row: SecretRow): TeamSecret {
  return { team: row.team, secret: row.secret, createdAt: row.created_at };
}

function toRef(row: RefRow): DeliveryRef {
  return { id: row.id, attempts: row.attempts, nextAttemptAt: row.next_attempt_at };
}

function toDelivery(row: DeliveryRow): CallbackDelivery {
  return {
    id: row.id,
    notificationId: row.notification_id,
    messageId: row.message_id,
    eventId: row.event_id,
    event: row.event,
    status: row.status,
    attempts: row.attempts,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    nextAttemptAt: row.next_attempt_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deliveredAt: row.delivered_at,
    redeliveredAt: row.redelivered_at,
  };
}
