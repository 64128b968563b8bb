import { BadRequestError, UnprocessableError } from '../common/errors/api-error';
import { parseInstant } from '../common/iso-instant';

export { parseInstant };

export const DEFAULT_WINDOW_DAYS = 7;
export const MAX_WINDOW_DAYS = 366;
const DAY_MS = 24 * 60 * 60 * 1000;

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
