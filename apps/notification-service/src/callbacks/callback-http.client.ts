import { Injectable } from '@nestjs/common';

export interface CallbackResponse {
  /** A 2xx answer. */
  ok: boolean;
  /** Null when no answer came back (timeout, refused, DNS, TLS). */
  statusCode: number | null;
  /** Why it was not ok; null when it was. */
  error: string | null;
}

const USER_AGENT = 'notification-service-callbacks/1';

/** The one HTTP call of a callback attempt; a class of its own so the sender can be tested without a network. */
@Injectable()
export class CallbackHttpClient {
  async post(
    url: string,
    body: string,
    headers: Record<string, string>,
    timeoutMs: number,
  ): Promise<CallbackResponse> {
    try {
      const response = await fetch(url, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...headers },
        // A redirect is the receiver's misconfiguration; following it would re-send a signed body
        // to wherever it points.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      // Only the status matters; the body is dropped unread so the connection is freed.
      await response.body?.cancel().catch(() => undefined);
      if (response.status >= 200 && response.status < 300) {
        return { ok: true, statusCode: response.status, error: null };
      }
      const reason =
        response.status >= 300 && response.status < 400 ? ' (redirects are not followed)' : '';
      return { ok: false, statusCode: response.status, error: `HTTP ${response.status}${reason}` };
    } catch (error) {
      return { ok: false, statusCode: null, error: describe(error, timeoutMs) };
    }
  }
}

function describe(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `No answer within ${timeoutMs} ms`;
  }
  // fetch reports network failures as "fetch failed" with the real reason as its cause.
  const cause =
    error instanceof Error
      ? (error.cause as { code?: unknown; message?: unknown } | undefined)
      : undefined;
  if (cause && typeof cause.message === 'string') {
    return typeof cause.code === 'string' ? `${cause.code}: ${cause.message}` : cause.message;
  }
  return error instanceof Error ? error.message : String(error);
}
