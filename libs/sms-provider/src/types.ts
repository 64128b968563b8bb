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

/** One recipient of an accepted send, as POST /messages answers it. */
export interface SendRecipientStatus {
  to: string;
  status: ProviderMessageStatus;
}

export interface SendMessageResponse {
  success: true;
  /** One id for the whole request, whether `to` was one number or an array. */
  message_id: string;
  /** Segments of the text × recipients. */
  credits_used: number;
  credits_remaining: number;
  status: ProviderMessageStatus;
  /**
   * Present when `to` was an array: every recipient, in request order (sandbox extension; the
   * provider's document shows none). Each recipient's later statuses come by webhook or
   * GET /messages/{id} under the same `message_id`, told apart by `to`.
   */
  recipients?: SendRecipientStatus[];
}

/** One recipient's state within a message (GET /messages/{id} `recipients`). */
export interface ProviderRecipientStatus {
  to: string;
  status: ProviderMessageStatus;
  sent_at?: string | null;
  delivered_at?: string | null;
  /** Set when this recipient's status is failed or expired. */
  error?: { code: string; message: string } | null;
}

/**
 * GET /messages/{id}. For a one-number send: the documented shape (`to`, the recipient's
 * status and times). For a send to an array: no top-level `to`, times or error; `status` is the
 * least advanced of the recipients' (queued, then sent; once all are final: delivered if all
 * were, else failed if any failed, else expired), and `recipients` carries each one's state.
 */
export interface ProviderMessage {
  message_id: string;
  /** The recipient of a one-number send; absent for a send to an array. */
  to?: string;
  from?: string | null;
  message: string;
  status: ProviderMessageStatus;
  sent_at?: string | null;
  delivered_at?: string | null;
  /** Extension: set when status is failed or expired. */
  error?: { code: string; message: string } | null;
  /**
   * Extension: each recipient's state. The sandbox always sends it (one entry for a one-number
   * send), so a reader can take per-recipient statuses from here whatever the send's form.
   */
  recipients?: ProviderRecipientStatus[];
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
  /** The send's id: for a send to an array, shared by all its recipients. */
  message_id: string;
  /** The recipient this event is about; with `message_id` it names one recipient of a batch. */
  to: string;
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
