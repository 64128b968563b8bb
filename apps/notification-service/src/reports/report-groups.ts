import { UnprocessableError } from '../common/errors/api-error';
import { MESSAGE_CATEGORIES } from '../common/message-category';
import type { ReportWindow } from './report-window';

export const REPORT_GROUPS = ['template', 'team', 'category', 'account', 'day', 'hour'] as const;
export type ReportGroup = (typeof REPORT_GROUPS)[number];

/**
 * Non-time groups with a fixed, small set of keys: how many there can be is known without
 * counting the messages.
 */
export const BOUNDED_GROUPS: Partial<Record<ReportGroup, number>> = {
  category: MESSAGE_CATEGORIES.length,
};

/** Time groups get a row for every bucket of the window, messages or not. */
export const TIME_GROUPS: ReadonlySet<ReportGroup> = new Set<ReportGroup>(['day', 'hour']);

/** `group_by=template,day`: names from REPORT_GROUPS, comma-separated, each at most once. */
export const GROUP_BY_PATTERN = new RegExp(
  `^(${REPORT_GROUPS.join('|')})(,(${REPORT_GROUPS.join('|')}))*$`,
);

/** One hour row per hour of a month is as much as a chart or a spreadsheet wants. */
export const MAX_BUCKETS = 31 * 24;

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/** Parses a group_by value the DTO has already matched against GROUP_BY_PATTERN. */
export function parseGroups(value: string | undefined): ReportGroup[] {
  const groups = (value ?? 'template').split(',') as ReportGroup[];
  if (new Set(groups).size !== groups.length) {
    throw new UnprocessableError('invalid_group_by', 'group_by names each grouping at most once', {
      group_by: value,
    });
  }
  if (groups.includes('day') && groups.includes('hour')) {
    throw new UnprocessableError('invalid_group_by', 'group_by takes day or hour, not both', {
      group_by: value,
    });
  }
  return groups;
}

/** How many UTC days or hours the window touches (a partial one at either end counts). */
export function bucketCount(group: 'day' | 'hour', window: ReportWindow): number {
  const size = group === 'day' ? DAY_MS : HOUR_MS;
  const first = Math.floor(window.since.getTime() / size) * size;
  return Math.ceil((window.until.getTime() - first) / size);
}

/** The key of a time bucket as rows carry it: `YYYY-MM-DD` for days, `YYYY-MM-DDTHH:00:00Z` for hours. */
export function bucketKey(group: 'day' | 'hour', start: Date): string {
  const iso = start.toISOString();
  return group === 'day' ? iso.slice(0, 10) : `${iso.slice(0, 13)}:00:00Z`;
}

/**
 * Every UTC day or hour the window touches, in order; the first bucket may start before `since`
 * (a window from 10:30 has the 10:00 hour). Too many buckets is refused rather than truncated.
 */
export function timeBuckets(group: 'day' | 'hour', window: ReportWindow): string[] {
  const size = group === 'day' ? DAY_MS : HOUR_MS;
  const first = Math.floor(window.since.getTime() / size) * size;
  const count = bucketCount(group, window);
  if (count > MAX_BUCKETS) {
    throw new UnprocessableError(
      'too_many_buckets',
      `A report has at most ${MAX_BUCKETS} ${group} buckets; narrow since/until or group by day`,
      { buckets: count, max_buckets: MAX_BUCKETS },
    );
  }
  return Array.from({ length: count }, (_, i) => bucketKey(group, new Date(first + i * size)));
}
