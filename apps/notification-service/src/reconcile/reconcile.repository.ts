import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { WITH_PROVIDER_STATUSES } from '../delivery-status/message-status';

export interface StaleMessage {
  id: string;
  providerMessageId: string;
}

/** What the reconciler asks of the database; status changes go through the lifecycle. */
@Injectable()
export class ReconcileRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Messages the provider holds that we have heard nothing about for a while, oldest news first. */
  async findStale(quietSince: Date, limit: number): Promise<StaleMessage[]> {
    const rows: { id: string; provider_message_id: string }[] = await this.db.query(
      `SELECT id, provider_message_id FROM messages
       WHERE status = ANY($3::text[]) AND provider_message_id IS NOT NULL
         AND updated_at < $1 AND (last_checked_at IS NULL OR last_checked_at < $1)
       ORDER BY updated_at LIMIT $2`,
      [quietSince, limit, WITH_PROVIDER_STATUSES],
    );
    return rows.map((r) => ({ id: r.id, providerMessageId: r.provider_message_id }));
  }

  async markChecked(id: string): Promise<void> {
    await this.db.query(`UPDATE messages SET last_checked_at = now() WHERE id = $1`, [id]);
  }
}
