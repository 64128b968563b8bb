import { setImmediate } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import type { Principal } from '../auth/scopes';
import { ForbiddenError, ServiceUnavailableError } from '../common/errors/api-error';
import { csvHeader, csvLines } from './csv';
import { resolveWindow } from './report-window';
import { parseGroups, TIME_GROUPS, timeBuckets, type ReportGroup } from './report-groups';
import { groupsToCount, MAX_REPORT_ROWS, maxCombinations, reportTooLarge } from './report-size';
import type {
  DeliveryFigures,
  DeliveryReport,
  DeliveryReportQuery,
  DeliveryReportRow,
} from './reports.dto';
import { emptyFigures, ReportsRepository, type DeliveryGroup } from './reports.repository';
import { MESSAGE_STATUSES } from '../delivery-status/message-status';

/** Column order of the figures, shared by the CSV header and its lines. */
const FIGURE_COLUMNS = [
  'total',
  ...MESSAGE_STATUSES,
  'suppressed',
  'delivery_rate',
  'p50_delivery_seconds',
  'p95_delivery_seconds',
  'p50_handover_seconds',
  'p95_handover_seconds',
  'segments',
] as const satisfies readonly (keyof DeliveryFigures)[];

const QUERY_CANCELED = '57014';

/** Rows written to CSV between two turns of the event loop. */
const CSV_SLICE = 2_000;

@Injectable()
export class ReportsService {
  constructor(private readonly reports: ReportsRepository) {}

  async delivery(principal: Principal, query: DeliveryReportQuery): Promise<DeliveryReport> {
    const team = this.visibleTeam(principal, query.team);
    const groupBy = parseGroups(query.group_by);
    const window = resolveWindow(query);
    const timeGroup = groupBy.find((group) => TIME_GROUPS.has(group)) as 'day' | 'hour' | undefined;
    // Refuse an oversized bucket list before running the query.
    const buckets = timeGroup === undefined ? [] : timeBuckets(timeGroup, window);
    const template = query.template ?? null;
    const category = query.category ?? null;
    const shape = { groupBy, window, team, template, category };
    const bucketsPerGroup = Math.max(buckets.length, 1);
    const fitting = maxCombinations(bucketsPerGroup);

    const outcome = await this.reports
      .delivery(
        { ...window, team, template, category, groupBy },
        {
          maxCombinations: fitting,
          countKeys: groupsToCount(shape, fitting),
          maxRows: MAX_REPORT_ROWS,
        },
      )
      .catch((error: unknown) => {
        if ((error as { code?: unknown }).code === QUERY_CANCELED) {
          throw new ServiceUnavailableError(
            'report_timeout',
            'The report took too long to compute; narrow the window or filter by team or template',
          );
        }
        throw error;
      });
    if (!outcome.fits) {
      throw reportTooLarge(
        { combinations: outcome.combinations, exact: outcome.exact, buckets: bucketsPerGroup },
        shape,
      );
    }
    const { aggregate } = outcome;

    // A report of MAX_REPORT_ROWS rows is tens of milliseconds of work in each step (reading the
    // rows, zero-filling, serialising): other requests get the event loop in between.
    await setImmediate();
    const groups =
      timeGroup === undefined
        ? aggregate.groups
        : zeroFilled(aggregate.groups, groupBy.indexOf(timeGroup), buckets, groupBy.length);
    const rows = groups.map((group) => toRow(groupBy, group));
    await setImmediate();
    return {
      since: window.since.toISOString(),
      until: window.until.toISOString(),
      group_by: groupBy.join(','),
      team,
      template,
      category,
      rows,
      totals: aggregate.totals,
      failures: aggregate.failures,
    };
  }

  /**
   * The report's rows as CSV: the window on every line (a file on its own still says what it
   * covers), the group key columns, then the figures; no totals line. Written CSV_SLICE rows at a
   * time with the event loop free in between: all 10,000 rows at once held it for ~80 ms.
   */
  async toCsv(report: DeliveryReport): Promise<string> {
    const keys = report.group_by.split(',') as ReportGroup[];
    const parts = [csvHeader(['since', 'until', ...keys, ...FIGURE_COLUMNS])];
    for (let start = 0; start < report.rows.length; start += CSV_SLICE) {
      if (start > 0) await setImmediate();
      parts.push(
        csvLines(
          report.rows
            .slice(start, start + CSV_SLICE)
            .map((row) => [
              report.since,
              report.until,
              ...keys.map((key) => row[key]),
              ...FIGURE_COLUMNS.map((column) => row[column]),
            ]),
        ),
      );
    }
    return parts.join('');
  }

  /**
   * Admin keys may look at any team or all of them; other keys only at their own. Naming another
   * team is refused rather than silently narrowed, so a caller never mistakes its own team's
   * figures for the ones it asked for.
   */
  private visibleTeam(principal: Principal, requested: string | undefined): string | null {
    if (principal.isAdmin) return requested ?? null;
    if (requested !== undefined && requested !== principal.team) {
      throw new ForbiddenError(
        `This API key belongs to team ${principal.team} and can only report on that team`,
        { team: principal.team, requested_team: requested },
      );
    }
    return principal.team;
  }
}

/**
 * The group keys in group_by order, then the figures. Built property by property in a fixed
 * order, so every row of a report has one shape: spreading a fromEntries() object into each of
 * 10,000 rows cost several times the rest of the report on the event loop.
 */
function toRow(groupBy: readonly ReportGroup[], group: DeliveryGroup): DeliveryReportRow {
  const row: Record<string, string | number | null> = {};
  for (let i = 0; i < groupBy.length; i++) row[groupBy[i]] = group.keys[i];
  for (const column of FIGURE_COLUMNS) row[column] = group.figures[column];
  return row as unknown as DeliveryReportRow;
}

/**
 * Adds an all-zero group for every bucket missing from each combination of the other keys (or
 * the one combination when time is the only grouping), keeping the key order of the query: a
 * chart of the rows has no gaps where nothing was sent.
 */
export function zeroFilled(
  groups: readonly DeliveryGroup[],
  timeIndex: number,
  buckets: readonly string[],
  keyCount: number,
): DeliveryGroup[] {
  const byRest = new Map<string, { rest: string[]; byBucket: Map<string, DeliveryGroup> }>();
  const restOf = (keys: readonly string[]) => keys.filter((_, i) => i !== timeIndex);
  for (const group of groups) {
    const rest = restOf(group.keys);
    const id = JSON.stringify(rest);
    const entry = byRest.get(id) ?? { rest, byBucket: new Map<string, DeliveryGroup>() };
    entry.byBucket.set(group.keys[timeIndex], group);
    byRest.set(id, entry);
  }
  if (keyCount === 1) {
    // Time alone: the single combination exists even over no messages.
    if (!byRest.has('[]')) byRest.set('[]', { rest: [], byBucket: new Map() });
  }
  const filled: DeliveryGroup[] = [];
  for (const { rest, byBucket } of byRest.values()) {
    for (const bucket of buckets) {
      const found = byBucket.get(bucket);
      if (found) {
        filled.push(found);
        continue;
      }
      const keys = [...rest];
      keys.splice(timeIndex, 0, bucket);
      filled.push({ keys, figures: emptyFigures() });
    }
  }
  // Byte order over the keys in group_by order, as the query sorts (COLLATE "C").
  const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return filled.sort((a, b) => {
    for (let i = 0; i < a.keys.length; i++) {
      const order = compare(a.keys[i], b.keys[i]);
      if (order !== 0) return order;
    }
    return 0;
  });
}
