import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { MetricsService, type ScrapedGauges } from '../metrics/metrics.service';
import { UNFINISHED_STATUSES } from './message-status';

/**
 * The backlog gauges of /metrics, read from the database at each scrape: one query over the
 * unfinished messages only (the partial indexes on scheduled/pending and queued/sent), so its
 * cost follows the backlog, not the history.
 */
@Injectable()
export class BacklogGaugesRepository implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.metrics.watchBacklog(() => this.read());
  }

  async read(): Promise<ScrapedGauges> {
    const [row] = await this.db.query<
      {
        status_counts: Record<string, number> | null;
        oldest_pending: number;
        scheduled_overdue: number;
      }[]
    >(
      `SELECT
         (SELECT jsonb_object_agg(status, n) FROM (
            SELECT status, count(*)::int AS n FROM messages WHERE status = ANY($1) GROUP BY status
          ) c) AS status_counts,
         COALESCE((SELECT extract(epoch FROM now() - min(next_attempt_at)) FROM messages
           WHERE status = 'pending' AND claimed_at IS NULL AND next_attempt_at <= now()), 0)::float8
           AS oldest_pending,
         COALESCE((SELECT extract(epoch FROM now() - min(next_attempt_at)) FROM messages
           WHERE status = 'scheduled' AND next_attempt_at <= now()), 0)::float8
           AS scheduled_overdue`,
      [UNFINISHED_STATUSES],
    );
    const byStatus: Record<string, number> = {};
    for (const status of UNFINISHED_STATUSES) byStatus[status] = row.status_counts?.[status] ?? 0;
    return {
      byStatus,
      oldestPendingSeconds: row.oldest_pending,
      scheduledOverdueSeconds: row.scheduled_overdue,
    };
  }
}
