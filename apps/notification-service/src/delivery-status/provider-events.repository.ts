import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { statusesBefore } from './message-status';
import type { EventSource } from '../notifications/entities/message-event.entity';
import type { ProviderStatusUpdate } from './provider-status';

export type ApplyOutcome = 'applied' | 'unchanged' | 'orphaned';

/**
 * Applies provider status news to messages. The hot path (a webhook) is one SQL statement: find
 * the message by provider id, move it forward if the lifecycle allows, write the timeline row, or
 * park the event when the message isn't known yet (the provider's webhook beat our commit).
 */
@Injectable()
export class ProviderEventsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async apply(
    update: ProviderStatusUpdate,
    source: EventSource,
    rawPayload: unknown,
    parkIfUnknown = true,
  ): Promise<ApplyOutcome> {
    const terminal = ['delivered', 'failed', 'expired'].includes(update.status);
    const rows: { known: number; applied: number }[] = await this.db.query(
      `WITH msg AS (
         SELECT id, status FROM messages WHERE provider_message_id = $1 FOR UPDATE
       ), updated AS (
         UPDATE messages m SET
           status = $2,
           sent_at = COALESCE(m.sent_at, $3, CASE WHEN $2 IN ('sent','delivered') THEN $5::timestamptz END),
           delivered_at = COALESCE(m.delivered_at, $4, CASE WHEN $2 = 'delivered' THEN $5::timestamptz END),
           error_code = CASE WHEN $2 IN ('failed','expired') THEN COALESCE($6, m.error_code) ELSE m.error_code END,
           error_message = CASE WHEN $2 IN ('failed','expired') THEN COALESCE($7, m.error_message) ELSE m.error_message END,
           completed_at = CASE WHEN $8 THEN now() ELSE m.completed_at END,
           last_checked_at = now(),
           updated_at = now()
         FROM msg WHERE m.id = msg.id AND msg.status = ANY($9::text[])
         RETURNING m.id, m.status
       ), event AS (
         INSERT INTO message_events (message_id, type, status, source, dedupe_key, details, occurred_at)
         SELECT id, status, status, $10, 'provider:' || status, $11::jsonb, $5 FROM updated
         ON CONFLICT DO NOTHING
       ), parked AS (
         INSERT INTO pending_provider_events (provider_message_id, payload)
         SELECT $1, $12::jsonb WHERE $13 AND NOT EXISTS (SELECT 1 FROM msg)
       )
       SELECT (SELECT count(*) FROM msg)::int AS known, (SELECT count(*) FROM updated)::int AS applied`,
      [
        update.providerMessageId,
        update.status,
        update.sentAt,
        update.deliveredAt,
        update.occurredAt,
        update.errorCode,
        update.errorMessage,
        terminal,
        statusesBefore(update.status),
        source,
        JSON.stringify(
          update.errorCode
            ? { error: { code: update.errorCode, message: update.errorMessage } }
            : {},
        ),
        JSON.stringify(rawPayload ?? null),
        parkIfUnknown,
      ],
    );
    const [row] = rows;
    if (!row.known) return 'orphaned';
    return row.applied ? 'applied' : 'unchanged';
  }

  /** Parked events whose message has since got its provider id, oldest first. */
  async findAdoptable(limit: number): Promise<{ id: string; payload: unknown }[]> {
    return this.db.query(
      `SELECT p.id, p.payload FROM pending_provider_events p
       WHERE EXISTS (SELECT 1 FROM messages m WHERE m.provider_message_id = p.provider_message_id)
       ORDER BY p.id LIMIT $1`,
      [limit],
    );
  }

  async findParkedFor(providerMessageId: string): Promise<{ id: string; payload: unknown }[]> {
    return this.db.query(
      `SELECT id, payload FROM pending_provider_events WHERE provider_message_id = $1 ORDER BY id`,
      [providerMessageId],
    );
  }

  async deleteParked(ids: string[]): Promise<void> {
    if (ids.length) {
      await this.db.query(`DELETE FROM pending_provider_events WHERE id = ANY($1::bigint[])`, [
        ids,
      ]);
    }
  }

  /** Events for ids we never learn (another system on the same provider account) don't pile up. */
  async pruneParked(olderThan: Date): Promise<number> {
    const rows: { n: number }[] = await this.db.query(
      `WITH gone AS (DELETE FROM pending_provider_events WHERE received_at < $1 RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [olderThan],
    );
    return rows[0].n;
  }
}
