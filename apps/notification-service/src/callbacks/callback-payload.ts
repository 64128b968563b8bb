/** The body POSTed to a notification's callback_url on each status change of one of its messages. */
export interface CallbackPayload {
  /** `message.<status>`, e.g. `message.delivered`. */
  event: string;
  notification_id: string;
  message_id: string;
  reference: string | null;
  /** The recipient, E.164. */
  to: string;
  status: string;
  /** Set on `failed` and `expired`. */
  error: { code: string; message: string } | null;
  /** ISO 8601, UTC, milliseconds. */
  occurred_at: string;
}

/**
 * Reads a payload stored by the database trigger. Returns null if it is not one: better to fail
 * that delivery visibly than to sign and send something callers don't expect.
 */
export function parseCallbackPayload(value: unknown): CallbackPayload | null {
  if (typeof value !== 'object' || value === null) return null;
  const p = value as Record<string, unknown>;
  const strings = [
    'event',
    'notification_id',
    'message_id',
    'to',
    'status',
    'occurred_at',
  ] as const;
  if (!strings.every((k) => typeof p[k] === 'string')) return null;
  if (p.reference !== null && typeof p.reference !== 'string') return null;
  let error: CallbackPayload['error'] = null;
  if (p.error !== null && p.error !== undefined) {
    const e = p.error as Record<string, unknown>;
    if (typeof e !== 'object' || typeof e.code !== 'string' || typeof e.message !== 'string') {
      return null;
    }
    error = { code: e.code, message: e.message };
  }
  return {
    event: p.event as string,
    notification_id: p.notification_id as string,
    message_id: p.message_id as string,
    reference: p.reference,
    to: p.to as string,
    status: p.status as string,
    error,
    occurred_at: p.occurred_at as string,
  };
}

/**
 * The exact bytes sent and signed. Built field by field because PostgreSQL's jsonb reorders keys:
 * callers reading the raw body see the documented order.
 */
export function serializeCallbackPayload(payload: CallbackPayload): string {
  return JSON.stringify({
    event: payload.event,
    notification_id: payload.notification_id,
    message_id: payload.message_id,
    reference: payload.reference,
    to: payload.to,
    status: payload.status,
    error: payload.error,
    occurred_at: payload.occurred_at,
  });
}
