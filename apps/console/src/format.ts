import { MESSAGE_CATEGORIES, type MessageCategory } from '@app/api-client';

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 19)} UTC`;
}

export function seconds(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${value.toFixed(value < 10 ? 2 : 1)} s`;
}

export function percent(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? '—' : `${(rate * 100).toFixed(1)} %`;
}

export function count(value: number): string {
  return value.toLocaleString('en-US');
}

/** A category from a link or a picker; anything else (a stale link) means every category. */
export function categoryOf(value: string | null | undefined): MessageCategory | '' {
  return MESSAGE_CATEGORIES.find((c) => c === value) ?? '';
}

/** An instant as the recipient's clock showed it: `08:00 in Europe/Berlin`. */
function localTime(iso: string, timezone: string): string | null {
  try {
    const time = new Intl.DateTimeFormat('en-GB', {
      timeZone: timezone,
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(new Date(iso));
    return `${time} in ${timezone}`;
  } catch {
    // An unknown zone in this browser: the UTC time alone still says when.
    return null;
  }
}

/**
 * Why a message ended without reaching the phone, in words, for the error codes that mean the
 * service held it back to protect its recipient (they are not provider failures).
 */
export const PROTECTION_ERRORS: Record<string, string> = {
  recipient_suppressed:
    'Suppressed: the number is on the suppression list for this category. Never sent: no attempt, no cost.',
  recipient_rate_limited:
    'Over the per-number cap for this category. Never sent: no attempt, no cost.',
  validity_elapsed: 'Its validity ran out before it could be handed to the provider.',
};

/**
 * A timeline entry's details in words where the console knows them (a quiet-hours deferral, a
 * message the service held back); null: show the details as they are.
 */
export function eventSummary(type: string, details: Record<string, unknown> | null | undefined) {
  if (!details) return null;
  if (
    type === 'deferred' &&
    details.reason === 'quiet_hours' &&
    typeof details.until === 'string'
  ) {
    const timezone = typeof details.timezone === 'string' ? details.timezone : null;
    const local = timezone ? localTime(details.until, timezone) : null;
    return `Deferred for quiet hours until ${dateTime(details.until)}${local ? ` (${local})` : ''}`;
  }
  const error = details.error as { code?: unknown } | undefined;
  if (error && typeof error.code === 'string' && error.code in PROTECTION_ERRORS) {
    return PROTECTION_ERRORS[error.code];
  }
  return null;
}
