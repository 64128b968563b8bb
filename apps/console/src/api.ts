/**
 * The API as the console uses it. The key lives in sessionStorage only: it goes with this tab and
 * is gone when the tab closes; it is never put in a URL, so it cannot leak through history,
 * bookmarks or a Referer header.
 */
const KEY = 'notify-console-key';

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function storeKey(key: string): void {
  sessionStorage.setItem(KEY, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Envelope {
  success?: boolean;
  error?: { code?: string; message?: string };
}

async function call(method: string, path: string, body?: unknown, key = storedKey()) {
  const headers: Record<string, string> = {};
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) {
    let envelope: Envelope = {};
    try {
      envelope = (await res.json()) as Envelope;
    } catch {
      // not JSON: keep the status only
    }
    throw new ApiError(
      res.status,
      envelope.error?.code ?? 'http_error',
      envelope.error?.message ?? `HTTP ${res.status}`,
    );
  }
  return res;
}

export async function getJson<T>(path: string, key?: string): Promise<T> {
  return (await (await call('GET', path, undefined, key)).json()) as T;
}

export async function postJson<T>(path: string, body: unknown = {}): Promise<T> {
  return (await (await call('POST', path, body)).json()) as T;
}

export async function getText(path: string): Promise<string> {
  return (await call('GET', path)).text();
}

/** Which pages this key may open, found by asking each area once. */
export interface Access {
  reports: boolean;
  messages: boolean;
  admin: boolean;
}

export async function probeAccess(key: string): Promise<Access> {
  const allowed = async (path: string) => {
    try {
      await getJson(path, key);
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) throw error;
      return false;
    }
  };
  const [reports, messages, admin] = await Promise.all([
    allowed('/v1/reports/delivery?group_by=template&since=' + encodeURIComponent(hoursAgo(1))),
    allowed('/v1/messages?limit=1'),
    allowed('/v1/queue'),
  ]);
  return { reports, messages, admin };
}

export function hoursAgo(hours: number, now = Date.now()): string {
  return new Date(now - hours * 3600_000).toISOString();
}

export function query(params: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.set(name, value);
  }
  return search.toString();
}
