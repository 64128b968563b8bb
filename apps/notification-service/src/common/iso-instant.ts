import { registerDecorator, type ValidationOptions } from 'class-validator';

const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):?(\d{2}))$/;

/** The times the API accepts and stores: years 1970 to 9999. */
export const EARLIEST_INSTANT_MS = 0;
export const LATEST_INSTANT_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** `date` when it is a real time within years 1970–9999, else null. */
export function withinRange(date: Date): Date | null {
  const ms = date.getTime();
  return Number.isFinite(ms) && ms >= EARLIEST_INSTANT_MS && ms <= LATEST_INSTANT_MS ? date : null;
}

/**
 * An ISO 8601 date-time naming its offset (`Z`, `±hh:mm` or `±hhmm`) within years 1970–9999, or
 * null. Stricter than Date.parse, which silently turns 2026-02-30 into March 2nd: a report on the
 * wrong days is worse than a 400. (Date.UTC also reads years 0–99 as 1900–1999.)
 */
export function parseInstant(value: string): Date | null {
  const m = ISO_INSTANT.exec(value);
  if (!m) return null;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number);
  if (year < 1970) return null;
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
  return withinRange(new Date(local - offsetMs));
}

/** class-validator: the value is a string `parseInstant` accepts. */
export function IsIsoInstant(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isIsoInstant',
      target: target.constructor,
      propertyName,
      options: {
        message: `${propertyName} must be an ISO 8601 date-time with a UTC offset between years 1970 and 9999, e.g. 2026-01-31T00:00:00Z`,
        ...options,
      },
      validator: {
        validate: (value: unknown) => typeof value === 'string' && parseInstant(value) !== null,
      },
    });
}
