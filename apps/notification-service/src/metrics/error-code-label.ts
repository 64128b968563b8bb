import {
  RECIPIENT_RATE_LIMITED,
  RECIPIENT_SUPPRESSED,
  VALIDITY_ELAPSED,
} from '../common/recipient-error-codes';
import { PROVIDER_ERROR_CODES, type ProviderErrorCode } from '@app/sms-provider/helpers';

/** Failures on our side of the wire (the provider client's own codes). */
const CLIENT_CODES = [
  'network_error',
  'timeout',
  'server_error',
  'unexpected_response',
] as const satisfies readonly ProviderErrorCode[];

/**
 * Every value the `error_code` label of notify_message_failures_total can take: the provider's
 * documented codes, the client's, the ones we give a failure ourselves, and `other`. A label value
 * is a time series kept for the life of the process, so one taken from a webhook as written would
 * let a signer (or a provider bug) grow the scrape without bound.
 */
export const ERROR_CODE_LABELS: ReadonlySet<string> = new Set([
  ...PROVIDER_ERROR_CODES,
  ...CLIENT_CODES,
  // Ours: expired before sending, no final status in time, a failure the provider gave no code.
  'expired',
  // Recipient protection: stopped by the suppression list or a per-number cap, validity run out.
  RECIPIENT_SUPPRESSED,
  RECIPIENT_RATE_LIMITED,
  VALIDITY_ELAPSED,
  'status_timeout',
  'provider_failed',
  'provider_expired',
  'failed',
  'unknown',
  // What the provider sandbox reports for a failed delivery (its webhooks' error.code).
  'undeliverable',
  'other',
]);

/** The label value for a failure's error code: itself when known, else `other`. */
export function errorCodeLabel(code: string): string {
  return ERROR_CODE_LABELS.has(code) ? code : 'other';
}
