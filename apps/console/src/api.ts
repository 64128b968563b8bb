/**
 * The API as the console uses it. The key lives in sessionStorage only: it goes with this tab and
 * is gone when the tab closes; it is never put in a URL, so it cannot leak through history,
 * bookmarks or a Referer header.
 */
import { ApiError, createApiClient, unwrap } from '@app/api-client';

export { ApiError, unwrap };

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

/**
 * Every call goes through the client generated from openapi.json: paths, parameters and answers
 * are typed by the document, and a key stored after sign-in is used from the next request on.
 */
export const api = createApiClient({ key: storedKey });

/** Which pages this key may open, found by asking each area once. */
export interface Access {
  reports: boolean;
  messages: boolean;
  admin: boolean;
  suppressions: boolean;
  templates: boolean;
  /** Lists API keys: admin (every team's) or keys:read (its own team's). */
  keys: boolean;
}

export async function probeAccess(key: string): Promise<Access> {
  const withKey = createApiClient({ key });
  const allowed = async (call: Promise<{ response: Response; error?: unknown }>) => {
    try {
      await unwrap(call);
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) throw error;
      return false;
    }
  };
  const [reports, messages, admin, suppressions, templates, keys] = await Promise.all([
    allowed(
      withKey.GET('/v1/reports/delivery', {
        params: { query: { group_by: 'template', since: hoursAgo(1) } },
      }),
    ),
    allowed(withKey.GET('/v1/messages', { params: { query: { limit: '1' } } })),
    allowed(withKey.GET('/v1/queue')),
    allowed(withKey.GET('/v1/suppressions', { params: { query: { limit: '1' } } })),
    allowed(withKey.GET('/v1/templates', { params: { query: { limit: '1' } } })),
    allowed(withKey.GET('/v1/api-keys')),
  ]);
  return { reports, messages, admin, suppressions, templates, keys };
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
