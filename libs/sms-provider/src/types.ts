/**
 * Wire types of the SMS provider's REST API (shared/provider-api.md), in the provider's own
 * snake_case, plus the camelCase request shapes our client accepts.
 */

export type ProviderPlan = 'standard' | 'enterprise';

/** Requests per second of each plan (provider-api.md, "Rate Limits"). */
export const PLAN_RATE_LIMITS: Readonly<Record<ProviderPlan, number>> = {
  standard: 10,
  enterprise: 50,
};

export type ProviderMessageStatus = 'queued' | 'sent' | 'delivered' | 'failed' | 'expired';

export type ProviderErrorCode =
  | 'authentication_failed'
  | 'insufficient_credits'
  | 'invalid_phone_number'
  | 'message_too_long'
  | 'rate_limit_exceeded'
  // Not provider codes: failures on our side of the wire.
  | 'network_error'
  | 'timeout'
  | 'server_error'
  | 'unexpected_response';

export interface SendMessageRequest {
  /** One E.164 number or several. */
  to: string | string[];
  /** At most 1600 characters. */
  message: string;
  from?: string;
  /** ISO 8601 timestamp, or a Date. */
  scheduledAt?: string | Date;
  callbackUrl?: string;
}

export interface SendMessageResponse {
  success: true;
  message_id: string;
  credits_used: number;
  credits_remaining: number;
  status: ProviderMessageStatus;
  /** Present when `to` was an array: one entry per recipient (sandbox and provider extension). */
  messages?: { message_id: string; to: string; status: ProviderMessageStatus }[];
}

export interface ProviderMessage {
  message_id: string;
  to: string;
  from?: string | null;
  message: string;
  status: ProviderMessageStatus;
  sent_at?: string | null;
  delivered_at?: string | null;
  /** Extension: set when status is failed or expired. */
  error?: { code: string; message: string } | null;
}

export interface ProviderAccount {
  /** Extension fields beyond the documented ones are kept as-is. */
  [key: string]: unknown;
  plan?: string;
  credits?: number;
  credits_remaining?: number;
}

export type WebhookEventType =
  'message.queued' | 'message.sent' | 'message.delivered' | 'message.failed' | 'message.expired';

export interface RegisterWebhookRequest {
  url: string;
  events: WebhookEventType[];
}

export interface RegisterWebhookResponse {
  success: true;
  webhook_id?: string;
  url: string;
  events: WebhookEventType[];
  [key: string]: unknown;
}

/**
 * A string that editors still autocomplete with the known values: `Known | string` would collapse
 * to plain `string` (and trips no-redundant-type-constituents).
 */
export type OpenString<Known extends string> = Known | (string & Record<never, never>);

/** Body the provider POSTs to a webhook / callback URL. */
export interface ProviderWebhookPayload {
  /** Open-ended: a provider may add event types, and a receiver must not reject them. */
  event: OpenString<WebhookEventType>;
  message_id: string;
  to?: string;
  status: OpenString<ProviderMessageStatus>;
  sent_at?: string | null;
  delivered_at?: string | null;
  error?: { code: string; message: string } | null;
  /** Unix seconds. */
  timestamp: number;
}

/** Parsed X-RateLimit-* headers; a field is null when its header was absent or unreadable. */
export interface RateLimitInfo {
  limit: number | null;
  remaining: number | null;
  /** Seconds until the window resets (may be fractional). */
  resetSeconds: number | null;
}

/** Every successful client call returns the body plus the rate-limit headers of that response. */
export interface ProviderResult<T> {
  data: T;
  rateLimit: RateLimitInfo;
  httpStatus: number;
}
