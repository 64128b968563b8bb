import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

export interface StaleMessage {
  id: string;
  providerMessageId: string;
}

@Injectable()
export class ReconcileRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Messages the provider holds that we have heard nothing about for a while, oldest news first. */
  async findStale(quietSince: Date, limit: number): Promise<StaleMessage[]> {
    const rows: { id: string; provider_message_id: string }[] = await this.db.query(
      `SELECT id, provider_message_id FROM messages
       WHERE status IN ('queued', 'sent') AND provider_message_id IS NOT NULL
         AND updated_at < $1 AND (last_checked_at IS NULL OR last_checked_at < $1)
       ORDER BY updated_at LIMIT $2`,
      [quietSince, limit],
    );
    return rows.map((r) => ({ id: r.id, providerMessageId: r.provider_message_id }));
  }

  async markChecked(id: string): Promise<void> {
    await this.db.query(`UPDATE messages SET last_checked_at = now() WHERE id = $1`, [id]);
  }

  /** Handed to the provider before `handedBefore` and still without a final status: expired. */
  async expireOverdue(handedBefore: Date, limit: number): Promise<number> {
    const rows: { id: string }[] = await this.db.query(
      `WITH due AS (
         SELECT id FROM messages
         WHERE status IN ('queued', 'sent') AND queued_at < $1
         ORDER BY queued_at LIMIT $2 FOR UPDATE SKIP LOCKED
       ), updated AS (
         UPDATE messages m SET status = 'expired', error_code = 'status_timeout',
           error_message = 'No final status from the provider within the maximum age',
           completed_at = now(), updated_at = now()
         FROM due WHERE m.id = due.id
         RETURNING m.id
       ), event AS (
         INSERT INTO message_events (message_id, type, status, source, details)
         SELECT id, 'expired', 'expired', 'poll', '{"reason":"no final status within RECONCILE_MAX_AGE_MS"}'::jsonb
         FROM updated
       )
       SELECT id FROM updated`,
      [handedBefore, limit],
    );
    return rows.length;
  }
}
