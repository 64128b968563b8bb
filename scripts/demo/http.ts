import { setTimeout as sleep } from 'node:timers/promises';

export interface HttpResult<T> {
  status: number;
  body: T;
}

/** One JSON request with a timeout, so a hung server fails the demo instead of stalling it. */
export async function requestJson<T>(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
  timeoutMs = 5_000,
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, {
    method: options.method ?? 'GET',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    // Not JSON (e.g. an HTML error page): keep the text for the error message.
  }
  return { status: response.status, body: body as T };
}

/** Throws with the response body when the status is not the expected one. */
export function expectStatus<T>(what: string, result: HttpResult<T>, expected: number): T {
  if (result.status !== expected) {
    throw new Error(
      `${what}: expected HTTP ${expected}, got ${result.status}: ${JSON.stringify(result.body)}`,
    );
  }
  return result.body;
}

/**
 * Calls `check` every `intervalMs` until it returns a value (not undefined), or throws when
 * `deadline` (epoch ms) passes. `check` may throw to give up early.
 */
export async function pollUntil<T>(
  what: string,
  deadline: number,
  intervalMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** True when `url` answers with `status`; network errors (not listening yet) count as false. */
export async function answers(url: string, status = 200): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.status === status;
  } catch {
    return false;
  }
}
