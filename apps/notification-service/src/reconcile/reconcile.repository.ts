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

  /**
   * Messages the provider holds that are due a poll, most overdue first. With `first` the quiet
   * time before the first poll, a message last changed at `t` is polled once each time its
   * quiet time passes 1, 2, 5, 15 and 60 × `first`, then every 60 × `first` (all relative
   * to `t`, so a status change starts the schedule over): due when it was not checked since the
   * latest point passed.
   */
  async findDue(now: Date, first: number, limit: number): Promise<StaleMessage[]> {
    const rows: { id: string; provider_message_id: string }[] = await this.db.query(
      `SELECT m.id, m.provider_message_id
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
       ORDER BY m.updated_at + p.point_ms * interval '1 millisecond'
       LIMIT $3`,
      [now, first, limit, WITH_PROVIDER_STATUSES],
    );
    return rows.map((r) => ({ id: r.id, providerMessageId: r.provider_message_id }));
  }

  async markChecked(id: string): Promise<void> {
    await this.db.query(`UPDATE messages SET last_checked_at = now() WHERE id = $1`, [id]);
  }
}
