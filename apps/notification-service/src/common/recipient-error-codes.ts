/**
 * The error codes a message ends with when the service protected its recipient rather than a
 * provider refusing it. They are shared by the path that sets them and the reports and console
 * that count them, so one spelling lives here.
 */
/** Stopped by the suppression list before any attempt: never sent. */
export const RECIPIENT_SUPPRESSED = 'recipient_suppressed';
/** Over a per-number cap for its category in the cap's window. */
export const RECIPIENT_RATE_LIMITED = 'recipient_rate_limited';
/** Its validity ran out before it could be sent (ends `expired`). */
export const VALIDITY_ELAPSED = 'validity_elapsed';

export type RecipientErrorCode =
  typeof RECIPIENT_SUPPRESSED | typeof RECIPIENT_RATE_LIMITED | typeof VALIDITY_ELAPSED;
