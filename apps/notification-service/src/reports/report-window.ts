import { BadRequestError, UnprocessableError } from '../common/errors/api-error';

export const DEFAULT_WINDOW_DAYS = 7;
export const MAX_WINDOW_DAYS = 366;
const DAY_MS = 24 * 60 * 60 * 1000;

const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):?(\d{2}))$/;

/**
 * An ISO 8601 date-time naming its offset (`Z`, `±hh:mm` or `±hhmm`), or null. Stricter than
 * Date.parse, which silently turns 2026-02-30 into March 2nd: a report on the wrong days is worse
 * than a 400.
 */
export function parseInstant(value: string): Date | null {
  const m = ISO_INSTANT.exec(value);
  if (!m) return null;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  const offsetHours = m[8] ? 0 : Number(m[10]);
  const offsetMinutes = m[8] ? 0 : Number(m[11]);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  if (offsetHours > 23 || offsetMinutes > 59) return null;
  const local = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC rolls over (Feb 30 → Mar 2); a real calendar day survives the round trip.
  if (new Date(local).getUTCDate() !== day) return null;
  const offsetMs = (offsetHours * 60 + offsetMinutes) * 60_000 * (m[9] === '-' ? -1 : 1);
  return new Date(local - offsetMs);
}

export interface ReportWindow {
  since: Date;
  until: Date;
}

/**
 * The half-open window [since, until) on submitted_at. `until` defaults to now and `since` to
 * seven days before `until`, so a bare request answers "the last week".
 */
export function resolveWindow(
  input: { since?: string; until?: string },
  now: Date = new Date(),
): ReportWindow {
  const until = input.until === undefined ? now : required(input.until, 'until');
  const since =
    input.since === undefined
      ? new Date(until.getTime() - DEFAULT_WINDOW_DAYS * DAY_MS)
      : required(input.since, 'since');
  if (until.getTime() <= since.getTime()) {
    throw new UnprocessableError('invalid_window', 'until must be later than since', {
      since: since.toISOString(),
      until: until.toISOString(),
    });
  }
  if (until.getTime() - since.getTime() > MAX_WINDOW_DAYS * DAY_MS) {
    throw new UnprocessableError(
      'window_too_large',
      `A report covers at most ${MAX_WINDOW_DAYS} days; narrow since/until`,
      { since: since.toISOString(), until: until.toISOString(), max_days: MAX_WINDOW_DAYS },
    );
  }
  return { since, until };
}

function required(value: string, name: string): Date {
  const date = parseInstant(value);
  // The DTO has already refused these; this keeps the function safe on its own.
  if (!date) {
    throw new BadRequestError(`${name} must be an ISO 8601 date-time with a UTC offset`);
  }
  return date;
}
