import type { RateLimitInfo } from './types';

/** Anything header-shaped: Node's IncomingHttpHeaders, axios' AxiosHeaders, a plain object, a Headers. */
export type HeaderSource =
  { get(name: string): unknown } | Readonly<Record<string, unknown>> | null | undefined;

function readHeader(headers: HeaderSource, name: string): unknown {
  if (headers === null || headers === undefined) return undefined;
  const lower = name.toLowerCase();
  const getter = (headers as { get?: unknown }).get;
  if (typeof getter === 'function') {
    // fetch's Headers and axios' AxiosHeaders are already case-insensitive.
    const value: unknown = (getter as (n: string) => unknown).call(headers, name);
    if (value !== undefined && value !== null) return value;
  }
  // Plain objects keep whatever case the sender used; Node lower-cases, hand-built fixtures may not.
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === lower) return value;
  }
  return undefined;
}

function toNumber(value: unknown): number | null {
  // A repeated header arrives as an array; the first occurrence is the one proxies keep.
  const raw: unknown = Array.isArray(value) ? (value as unknown[])[0] : value;
  if (typeof raw === 'number') return Number.isFinite(raw) && raw >= 0 ? raw : null;
  if (typeof raw !== 'string') return null;
  const text = raw.trim();
  // Number('') is 0 and Number('0x10') is 16: accept plain decimals only.
  if (!/^\d+(\.\d+)?$|^\.\d+$/.test(text)) return null;
  const parsed = Number(text);
  return Number.isFinite(parsed) ? parsed : null;
}

/**
 * Reads X-RateLimit-Limit / -Remaining / -Reset. A field the provider omitted or garbled is null
 * rather than 0, so callers can tell "no budget left" from "unknown".
 */
export function parseRateLimitHeaders(headers: HeaderSource): RateLimitInfo {
  return {
    limit: toNumber(readHeader(headers, 'x-ratelimit-limit')),
    remaining: toNumber(readHeader(headers, 'x-ratelimit-remaining')),
    resetSeconds: toNumber(readHeader(headers, 'x-ratelimit-reset')),
  };
}

/** Milliseconds to wait after a 429, from X-RateLimit-Reset (seconds); `fallbackMs` when unknown. */
export function retryAfterMsFrom(rateLimit: RateLimitInfo, fallbackMs = 1000): number {
  const reset = rateLimit.resetSeconds;
  return reset === null ? fallbackMs : Math.ceil(reset * 1000);
}
