import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { ReportGroup } from './report-groups';
import type { DeliveryFigures, FailureCount } from './reports.dto';

export interface DeliveryFilter {
  since: Date;
  until: Date;
  /** null: every team. */
  team: string | null;
  /** null: every template. */
  template: string | null;
  groupBy: ReportGroup[];
}

export interface DeliveryGroup {
  /** One key per entry of groupBy, in the same order. */
  keys: string[];
  figures: DeliveryFigures;
}

export interface DeliveryAggregate {
  groups: DeliveryGroup[];
  totals: DeliveryFigures;
  failures: FailureCount[];
}

/** Upper bound for one report query; a runaway report must not hold a connection for minutes. */
export const REPORT_STATEMENT_TIMEOUT_MS = 30_000;

/** Fixed SQL per group; user input never reaches the query text. */
const GROUP_KEY: Record<ReportGroup, string> = {
  template: 'n.template_key',
  team: 'n.team',
  day: `to_char(m.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
  hour: `to_char(m.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":00:00Z"')`,
};

const DELIVERY_SECONDS = `greatest(extract(epoch FROM m.delivered_at - m.submitted_at), 0)::float8`;
const HANDOVER_SECONDS = `greatest(extract(epoch FROM m.delivered_at - m.queued_at), 0)::float8`;
const DELIVERED = `m.status = 'delivered' AND m.delivered_at IS NOT NULL`;
const HANDED_OVER_AND_DELIVERED = `${DELIVERED} AND m.queued_at IS NOT NULL`;

/** Top error codes listed with a report; the long tail is what the messages search is for. */
export const MAX_FAILURE_CODES = 20;

interface RawRow {
  is_total: boolean;
  [key: `g${number}`]: string | null;
  total: string;
  scheduled: string;
  pending: string;
  queued: string;
  sent: string;
  delivered: string;
  failed: string;
  expired: string;
  canceled: string;
  delivery_rate: number | null;
  p50_delivery_seconds: number | null;
  p95_delivery_seconds: number | null;
  p50_handover_seconds: number | null;
  p95_handover_seconds: number | null;
  segments: string;
}

@Injectable()
export class ReportsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Every figure comes out of one GROUP BY: the grouping set `()` adds the totals row, so the
   * totals' percentiles are over all messages rather than a mix of the groups' percentiles, and
   * no message row ever reaches JavaScript.
   */
  async delivery(filter: DeliveryFilter): Promise<DeliveryAggregate> {
    const keys = filter.groupBy.map((group) => GROUP_KEY[group]);
    const params: unknown[] = [filter.since, filter.until];
    const where = ['m.submitted_at >= $1', 'm.submitted_at < $2'];
    if (filter.team !== null) {
      params.push(filter.team);
      where.push(`n.team = $${params.length}`);
    }
    if (filter.template !== null) {
      params.push(filter.template);
      where.push(`n.template_key = $${params.length}`);
    }
    const keyList = keys.join(', ');
    const sql = `
      SELECT
        GROUPING(${keyList}) <> 0 AS is_total,
        ${keys.map((key, i) => `${key} AS g${i}`).join(',\n        ')},
        count(*) AS total,
        count(*) FILTER (WHERE m.status = 'scheduled') AS scheduled,
        count(*) FILTER (WHERE m.status = 'pending') AS pending,
        count(*) FILTER (WHERE m.status = 'queued') AS queued,
        count(*) FILTER (WHERE m.status = 'sent') AS sent,
        count(*) FILTER (WHERE m.status = 'delivered') AS delivered,
        count(*) FILTER (WHERE m.status = 'failed') AS failed,
        count(*) FILTER (WHERE m.status = 'expired') AS expired,
        count(*) FILTER (WHERE m.status = 'canceled') AS canceled,
        round(
          count(*) FILTER (WHERE m.status = 'delivered')::numeric
            / nullif(count(*) FILTER (WHERE m.status IN ('delivered', 'failed', 'expired')), 0),
          4
        )::float8 AS delivery_rate,
        round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ${DELIVERY_SECONDS})
          FILTER (WHERE ${DELIVERED}))::numeric, 3)::float8 AS p50_delivery_seconds,
        round((percentile_cont(0.95) WITHIN GROUP (ORDER BY ${DELIVERY_SECONDS})
          FILTER (WHERE ${DELIVERED}))::numeric, 3)::float8 AS p95_delivery_seconds,
        round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ${HANDOVER_SECONDS})
          FILTER (WHERE ${HANDED_OVER_AND_DELIVERED}))::numeric, 3)::float8 AS p50_handover_seconds,
        round((percentile_cont(0.95) WITHIN GROUP (ORDER BY ${HANDOVER_SECONDS})
          FILTER (WHERE ${HANDED_OVER_AND_DELIVERED}))::numeric, 3)::float8 AS p95_handover_seconds,
        coalesce(sum(m.segments) FILTER (WHERE m.provider_message_id IS NOT NULL), 0) AS segments
      FROM messages m
      JOIN notifications n ON n.id = m.notification_id
      WHERE ${where.join(' AND ')}
      GROUP BY GROUPING SETS ((${keyList}), ())
      ORDER BY GROUPING(${keyList}), ${keys.map((key) => `${key} COLLATE "C"`).join(', ')}`;
    const failuresSql = `
      SELECT coalesce(m.error_code, 'unknown') AS error_code,
        count(*) FILTER (WHERE m.status = 'failed') AS failed,
        count(*) FILTER (WHERE m.status = 'expired') AS expired
      FROM messages m
      JOIN notifications n ON n.id = m.notification_id
      WHERE ${where.join(' AND ')} AND m.status IN ('failed', 'expired')
      GROUP BY 1
      ORDER BY count(*) DESC, coalesce(m.error_code, 'unknown') COLLATE "C"
      LIMIT ${MAX_FAILURE_CODES}`;

    const [rows, failureRows] = await this.db.transaction(async (manager) => {
      await manager.query(`SET TRANSACTION READ ONLY`);
      await manager.query(`SET LOCAL statement_timeout = ${REPORT_STATEMENT_TIMEOUT_MS}`);
      const figureRows = await manager.query<RawRow[]>(sql, params);
      const failed = await manager.query<{ error_code: string; failed: string; expired: string }[]>(
        failuresSql,
        params,
      );
      return [figureRows, failed] as const;
    });

    const groups: DeliveryGroup[] = [];
    let totals: DeliveryFigures | null = null;
    for (const row of rows) {
      if (row.is_total) {
        totals = figures(row);
        continue;
      }
      const groupKeys = keys.map((_, i) => row[`g${i}`]);
      if (groupKeys.every((key): key is string => key !== null)) {
        groups.push({ keys: groupKeys, figures: figures(row) });
      }
    }
    const failures = failureRows.map((row) => ({
      error_code: row.error_code,
      failed: Number(row.failed),
      expired: Number(row.expired),
    }));
    // The empty grouping set always yields a row, even over no messages; this is a safety net.
    return { groups, totals: totals ?? emptyFigures(), failures };
  }
}

/** count() and sum() are bigint, which node-postgres hands over as strings. */
function figures(row: RawRow): DeliveryFigures {
  return {
    total: Number(row.total),
    scheduled: Number(row.scheduled),
    pending: Number(row.pending),
    queued: Number(row.queued),
    sent: Number(row.sent),
    delivered: Number(row.delivered),
    failed: Number(row.failed),
    expired: Number(row.expired),
    canceled: Number(row.canceled),
    delivery_rate: row.delivery_rate,
    p50_delivery_seconds: row.p50_delivery_seconds,
    p95_delivery_seconds: row.p95_delivery_seconds,
    p50_handover_seconds: row.p50_handover_seconds,
    p95_handover_seconds: row.p95_handover_seconds,
    segments: Number(row.segments),
  };
}

export function emptyFigures(): DeliveryFigures {
  return {
    total: 0,
    scheduled: 0,
    pending: 0,
    queued: 0,
    sent: 0,
    delivered: 0,
    failed: 0,
    expired: 0,
    canceled: 0,
    delivery_rate: null,
    p50_delivery_seconds: null,
    p95_delivery_seconds: null,
    p50_handover_seconds: null,
    p95_handover_seconds: null,
    segments: 0,
  };
}
