import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  FAILURE_STATUSES,
  MESSAGE_STATUSES,
  OUTCOME_STATUSES,
  STATUS_SQL,
  statusListSql,
} from '../delivery-status/message-status';
import type { MessageCategory } from '../common/message-category';
import { RECIPIENT_SUPPRESSED } from '../common/recipient-error-codes';
import type { ReportGroup } from './report-groups';
import type { DeliveryFigures, FailureCount } from './reports.dto';

export interface DeliveryFilter {
  since: Date;
  until: Date;
  /** null: every team. */
  team: string | null;
  /** null: every template. */
  template: string | null;
  /** null: every category. */
  category: MessageCategory | null;
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

/** Checked inside the report's transaction, before the aggregate runs. */
export interface DeliveryLimits {
  /**
   * Distinct combinations of `countKeys` the report may have; more, and the aggregate is not run.
   * Counted up to `maxRows + 1` at most, so the count itself stays bounded.
   */
  maxCombinations: number;
  /** The non-time groupings to count combinations of; none: nothing to count. */
  countKeys: readonly ReportGroup[];
  /** Groups the aggregate may hand back (a second guard: LIMIT maxRows + 1). */
  maxRows: number;
}

export type DeliveryOutcome =
  | { fits: true; aggregate: DeliveryAggregate }
  /** `combinations` is exact when `exact`, else a lower bound. */
  | { fits: false; combinations: number; exact: boolean };

/** Upper bound for one report query; a runaway report must not hold a connection for minutes. */
export const REPORT_STATEMENT_TIMEOUT_MS = 30_000;

/** Fixed SQL per group; user input never reaches the query text. */
const GROUP_KEY: Record<ReportGroup, string> = {
  template: 'n.template_key',
  team: 'n.team',
  category: 'm.category',
  // Empty for a message no account took yet (or ever); a row from before accounts went through
  // the one account there was, which is what `default` names.
  account: `CASE WHEN m.queued_at IS NULL THEN '' ELSE COALESCE(m.provider_account, 'default') END`,
  day: `to_char(m.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
  hour: `to_char(m.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":00:00Z"')`,
};

const DELIVERY_SECONDS = `greatest(extract(epoch FROM m.delivered_at - m.submitted_at), 0)::float8`;
const HANDOVER_SECONDS = `greatest(extract(epoch FROM m.delivered_at - m.queued_at), 0)::float8`;
const DELIVERED = `m.status = ${STATUS_SQL.delivered} AND m.delivered_at IS NOT NULL`;
const HANDED_OVER_AND_DELIVERED = `${DELIVERED} AND m.queued_at IS NOT NULL`;
/**
 * Stopped by the suppression list: never sent and no attempt, so it is neither a failure of
 * delivery nor part of the delivery rate; it has its own column. Never NULL (status is NOT NULL),
 * so NOT (...) is safe.
 */
const SUPPRESSED = `m.status = ${STATUS_SQL.failed} AND m.error_code IS NOT DISTINCT FROM '${RECIPIENT_SUPPRESSED}'`;

/** A status column's condition: `failed` leaves out the suppressed, counted on their own. */
function statusCondition(status: (typeof MESSAGE_STATUSES)[number]): string {
  const condition = `m.status = ${STATUS_SQL[status]}`;
  return status === 'failed' ? `${condition} AND NOT (${SUPPRESSED})` : condition;
}

/** Top error codes listed with a report; the long tail is what the messages search is for. */
export const MAX_FAILURE_CODES = 20;

/**
 * Counts and sums come as float8 (exact far beyond any message count): node-postgres parses those
 * into numbers, where bigint would arrive as strings to convert row by row.
 */
interface RawRow {
  is_total: boolean;
  [key: `g${number}`]: string | null;
  total: number;
  scheduled: number;
  pending: number;
  queued: number;
  sent: number;
  delivered: number;
  failed: number;
  expired: number;
  canceled: number;
  suppressed: number;
  delivery_rate: number | null;
  p50_delivery_seconds: number | null;
  p95_delivery_seconds: number | null;
  p50_handover_seconds: number | null;
  p95_handover_seconds: number | null;
  segments: number;
}

@Injectable()
export class ReportsRepository {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Every figure comes out of one GROUP BY: the grouping set `()` adds the totals row, so the
   * totals' percentiles are over all messages rather than a mix of the groups' percentiles, and
   * no message row ever reaches JavaScript. Before it, in the same snapshot, a bounded count of
   * the distinct group keys decides whether the report fits `limits`; one that does not is never
   * aggregated.
   */
  async delivery(filter: DeliveryFilter, limits: DeliveryLimits): Promise<DeliveryOutcome> {
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
    if (filter.category !== null) {
      params.push(filter.category);
      where.push(`m.category = $${params.length}`);
    }
    const keyList = keys.join(', ');
    const sql = `
      SELECT
        GROUPING(${keyList}) <> 0 AS is_total,
        ${keys.map((key, i) => `${key} AS g${i}`).join(',\n        ')},
        count(*)::float8 AS total,
        ${MESSAGE_STATUSES.map(
          (status) => `count(*) FILTER (WHERE ${statusCondition(status)})::float8 AS ${status}`,
        ).join(',\n        ')},
        count(*) FILTER (WHERE ${SUPPRESSED})::float8 AS suppressed,
        round(
          count(*) FILTER (WHERE m.status = ${STATUS_SQL.delivered})::numeric
            / nullif(count(*) FILTER (
              WHERE m.status IN (${statusListSql(OUTCOME_STATUSES)}) AND NOT (${SUPPRESSED})
            ), 0),
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
        coalesce(sum(m.segments) FILTER (WHERE m.provider_message_id IS NOT NULL), 0)::float8
          AS segments
      FROM messages m
      JOIN notifications n ON n.id = m.notification_id
      WHERE ${where.join(' AND ')}
      GROUP BY GROUPING SETS ((${keyList}), ())
      ORDER BY GROUPING(${keyList}) DESC, ${keys.map((key) => `${key} COLLATE "C"`).join(', ')}
      LIMIT ${limits.maxRows + 2}`;
    // The totals row sorts first, so the LIMIT can only cut groups: one more than allowed says
    // the report is too large without the rest ever reaching JavaScript.
    const countKeys = limits.countKeys.map((group) => GROUP_KEY[group]);
    const countSql = `
      SELECT count(*)::int AS n FROM (
        SELECT DISTINCT ${countKeys.join(', ')}
        FROM messages m
        JOIN notifications n ON n.id = m.notification_id
        WHERE ${where.join(' AND ')}
        LIMIT ${limits.maxRows + 1}
      ) combinations`;
    const failuresSql = `
      SELECT coalesce(m.error_code, 'unknown') AS error_code,
        count(*) FILTER (WHERE m.status = ${STATUS_SQL.failed}) AS failed,
        count(*) FILTER (WHERE m.status = ${STATUS_SQL.expired}) AS expired
      FROM messages m
      JOIN notifications n ON n.id = m.notification_id
      WHERE ${where.join(' AND ')} AND m.status IN (${statusListSql(FAILURE_STATUSES)})
        AND NOT (${SUPPRESSED})
      GROUP BY 1
      ORDER BY count(*) DESC, coalesce(m.error_code, 'unknown') COLLATE "C"
      LIMIT ${MAX_FAILURE_CODES}`;

    // One snapshot for the count and the aggregate: what was counted is what gets aggregated.
    const result = await this.db.transaction('REPEATABLE READ', async (manager) => {
      await manager.query(`SET TRANSACTION READ ONLY`);
      await manager.query(`SET LOCAL statement_timeout = ${REPORT_STATEMENT_TIMEOUT_MS}`);
      if (countKeys.length > 0) {
        const [{ n }] = await manager.query<{ n: number }[]>(countSql, params);
        if (n > limits.maxCombinations) {
          return { fits: false, combinations: n, exact: n <= limits.maxRows } as const;
        }
      }
      const figureRows = await manager.query<RawRow[]>(sql, params);
      const failed = await manager.query<{ error_code: string; failed: string; expired: string }[]>(
        failuresSql,
        params,
      );
      return { fits: true, rows: figureRows, failureRows: failed } as const;
    });
    if (!result.fits) return result;
    const { rows, failureRows } = result;
    // One row is the totals row.
    if (rows.length - 1 > limits.maxRows) {
      // Only reachable if the count and the aggregate disagreed: more groups than maxRows means
      // more combinations than fit, whatever their number.
      return { fits: false, combinations: limits.maxCombinations + 1, exact: false };
    }

    const columns = keys.map((_, i) => `g${i}` as const);
    const groups: DeliveryGroup[] = [];
    let totals: DeliveryFigures | null = null;
    for (const row of rows) {
      if (row.is_total) {
        totals = figures(row);
        continue;
      }
      const groupKeys = columns.map((column) => row[column]);
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
    return { fits: true, aggregate: { groups, totals: totals ?? emptyFigures(), failures } };
  }
}

function figures(row: RawRow): DeliveryFigures {
  return {
    total: row.total,
    scheduled: row.scheduled,
    pending: row.pending,
    queued: row.queued,
    sent: row.sent,
    delivered: row.delivered,
    failed: row.failed,
    expired: row.expired,
    canceled: row.canceled,
    suppressed: row.suppressed,
    delivery_rate: row.delivery_rate,
    p50_delivery_seconds: row.p50_delivery_seconds,
    p95_delivery_seconds: row.p95_delivery_seconds,
    p50_handover_seconds: row.p50_handover_seconds,
    p95_handover_seconds: row.p95_handover_seconds,
    segments: row.segments,
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
    suppressed: 0,
    delivery_rate: null,
    p50_delivery_seconds: null,
    p95_delivery_seconds: null,
    p50_handover_seconds: null,
    p95_handover_seconds: null,
    segments: 0,
  };
}
