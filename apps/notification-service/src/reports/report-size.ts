import { UnprocessableError } from '../common/errors/api-error';
import type { MessageCategory } from '../common/message-category';
import { BOUNDED_GROUPS, bucketCount, type ReportGroup, TIME_GROUPS } from './report-groups';
import type { ReportWindow } from './report-window';

/**
 * Rows one report may have, zero-filled ones included: the distinct combinations of its template,
 * team and category keys times its time buckets. Measured (bench/notes/large-report.md): 10,000 rows are
 * about 3 MB of JSON and a few tens of milliseconds of zero-fill, sort and serialisation on the
 * event loop. The 216,000 rows of a month of hours over 300 templates stopped the loop for seconds
 * and ran the image's 192 MB heap out of memory.
 */
export const MAX_REPORT_ROWS = 10_000;

/** What a report would hold, as counted before running its aggregate. */
export interface ReportSize {
  /** Distinct combinations of the non-time keys in the window (1 without such keys). */
  combinations: number;
  /** false: the count stopped early, so `combinations` (and the rows) is a lower bound. */
  exact: boolean;
  /** Time buckets per combination (1 without a time grouping). */
  buckets: number;
}

export interface ReportShape {
  groupBy: readonly ReportGroup[];
  window: ReportWindow;
  /** Filters as applied; null: every team or template. */
  team: string | null;
  template: string | null;
  category: MessageCategory | null;
}

/** Combinations of the non-time keys that fit under MAX_REPORT_ROWS with this many buckets. */
export function maxCombinations(buckets: number): number {
  return Math.floor(MAX_REPORT_ROWS / Math.max(buckets, 1));
}

/**
 * The non-time groupings a filter leaves open: `group_by=template` with `template=otp` has one
 * template, so only the others can multiply the rows.
 */
export function openGroups(shape: ReportShape): ReportGroup[] {
  return shape.groupBy.filter(
    (group) =>
      !TIME_GROUPS.has(group) &&
      !(group === 'template' && shape.template !== null) &&
      !(group === 'team' && shape.team !== null) &&
      !(group === 'category' && shape.category !== null),
  );
}

/**
 * The open groupings whose combinations must be counted in the store before the aggregate runs.
 * None when every open grouping has a fixed number of keys (category: 3) and their product fits
 * anyway: `group_by=category,hour` over a month is at most 3 × 744 rows, so the count is skipped.
 */
export function groupsToCount(shape: ReportShape, maxCombinations: number): ReportGroup[] {
  const open = openGroups(shape);
  let bound = 1;
  for (const group of open) {
    const keys = BOUNDED_GROUPS[group];
    if (keys === undefined) return open;
    bound *= keys;
  }
  return bound <= maxCombinations ? [] : open;
}

/** 422 report_too_large: how big the report would be, the limit, and how to narrow it. */
export function reportTooLarge(size: ReportSize, shape: ReportShape): UnprocessableError {
  const rows = size.combinations * size.buckets;
  const timeGroup = shape.groupBy.find((group) => TIME_GROUPS.has(group));
  const narrow = narrowingHints(size, shape, timeGroup as 'day' | 'hour' | undefined);
  const count = (n: number) => n.toLocaleString('en-US');
  const open = openGroups(shape);
  const parts = [
    ...(open.length
      ? [`${count(size.combinations)}${size.exact ? '' : '+'} ${open.join('/')}`]
      : []),
    ...(timeGroup ? [`${count(size.buckets)} ${timeGroup}s`] : []),
  ];
  return new UnprocessableError(
    'report_too_large',
    `This report would have ${size.exact ? '' : 'at least '}${count(rows)} rows ` +
      `(${parts.join(' × ')}); a report has at most ${count(MAX_REPORT_ROWS)}. ` +
      `Narrow it: ${narrow.join('; ')}`,
    {
      rows,
      rows_exact: size.exact,
      max_rows: MAX_REPORT_ROWS,
      combinations: size.combinations,
      buckets: size.buckets,
      group_by: shape.groupBy.join(','),
      narrow,
    },
  );
}

/** Concrete ways to bring this report under the limit, the most useful first. */
function narrowingHints(
  size: ReportSize,
  shape: ReportShape,
  timeGroup: 'day' | 'hour' | undefined,
): string[] {
  const hints: string[] = [];
  const bucketsThatFit = Math.floor(MAX_REPORT_ROWS / size.combinations);
  hints.push(
    timeGroup !== undefined && size.exact && bucketsThatFit >= 1
      ? `a shorter window (since/until): at most ${bucketsThatFit.toLocaleString('en-US')} ` +
          `${timeGroup}s with these ${size.combinations.toLocaleString('en-US')} groups`
      : 'a shorter window (since/until)',
  );
  if (timeGroup === 'hour') {
    const days = bucketCount('day', shape.window);
    const byDay = shape.groupBy.map((group) => (group === 'hour' ? 'day' : group)).join(',');
    const rows = size.combinations * days;
    hints.push(
      size.exact && rows <= MAX_REPORT_ROWS
        ? `group_by=${byDay} (${rows.toLocaleString('en-US')} rows)`
        : `group_by=${byDay} instead of hours`,
    );
  }
  if (shape.groupBy.includes('template') && shape.template === null) {
    hints.push('template=<key>: one template');
  }
  if (shape.groupBy.includes('team') && shape.team === null) {
    hints.push('team=<team>: one team');
  }
  if (shape.groupBy.includes('category') && shape.category === null) {
    hints.push('category=<category>: one category');
  }
  return hints;
}
