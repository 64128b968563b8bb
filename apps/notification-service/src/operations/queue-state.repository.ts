import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

export interface BacklogRow {
  scheduled: number;
  scheduled_due_soon: number;
  pending: number;
  pending_due: number;
  claimed: number;
  at_provider: number;
  oldest_pending_seconds: number | null;
  handed_over_last_10s: number;
  handed_over_last_60s: number;
  credits_remaining: number | null;
  credits_as_of: Date | null;
}

/** The backlog as the database sees it: what is waiting, what is in a worker's hands, how fast. */
@Injectable()
export class QueueStateRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async backlog(dueSoonMs: number): Promise<BacklogRow> {
    const [row] = await this.db.query<BacklogRow[]>(
      `SELECT b.*, last.credits_remaining, last.queued_at AS credits_as_of
       FROM (
         SELECT
           count(*) FILTER (WHERE status = 'scheduled')::int AS scheduled,
           count(*) FILTER (WHERE status = 'scheduled'
             AND next_attempt_at <= now() + $1 * interval '1 millisecond')::int AS scheduled_due_soon,
           count(*) FILTER (WHERE status = 'pending' AND claimed_at IS NULL)::int AS pending,
           count(*) FILTER (WHERE status = 'pending' AND claimed_at IS NULL
             AND next_attempt_at <= now())::int AS pending_due,
           count(*) FILTER (WHERE status = 'pending' AND claimed_at IS NOT NULL)::int AS claimed,
           count(*) FILTER (WHERE status IN ('queued', 'sent'))::int AS at_provider,
           round(extract(epoch FROM now() - min(next_attempt_at) FILTER (
             WHERE status = 'pending' AND claimed_at IS NULL AND next_attempt_at <= now()))::numeric,
             3)::float8 AS oldest_pending_seconds,
           (SELECT count(*)::int FROM messages WHERE queued_at > now() - interval '10 seconds')
             AS handed_over_last_10s,
           (SELECT count(*)::int FROM messages WHERE queued_at > now() - interval '60 seconds')
             AS handed_over_last_60s
         FROM messages
         WHERE status IN ('scheduled', 'pending', 'queued', 'sent')
       ) b
       -- The provider's answer to the latest hand-over carries the account's credits.
       LEFT JOIN LATERAL (
         SELECT credits_remaining, queued_at FROM messages
         WHERE queued_at IS NOT NULL AND credits_remaining IS NOT NULL
         ORDER BY queued_at DESC LIMIT 1
       ) last ON true`,
      [dueSoonMs],
    );
    return row;
  }
}
