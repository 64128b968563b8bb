import { request as httpRequest } from 'node:http';
import type { RequestLogEntry } from '../../apps/sms-provider-sandbox/src/request-log/request-log.service';

export interface ApiResponse<T = unknown> {
  status: number;
  /** Parsed when the answer is JSON, else the text (an HTML error page stays readable). */
  body: T;
  text: string;
  headers: Headers;
}

export interface ApiOptions {
  body?: unknown;
  /** Sent as-is (for malformed-body tests) instead of JSON-encoding `body`. */
  rawBody?: string;
  headers?: Record<string, string>;
  /** Bearer key; none when null or left out. */
  key?: string | null;
  /** Abort after this long, so a hung server fails the caller instead of stalling it. */
  timeoutMs?: number;
}

/** One HTTP call to the notification service's API (or anything that answers JSON). */
export async function callApi<T = unknown>(
  baseUrl: string,
  method: string,
  path: string,
  options: ApiOptions = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.key != null) headers.authorization = `Bearer ${options.key}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body,
    signal: options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs),
  });
  const text = await response.text();
  let parsed: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('json') && text)
    parsed = JSON.parse(text);
  return { status: response.status, body: parsed as T, text, headers: response.headers };
}

/** The body, or an error naming the call and showing what came back instead. */
export function expectStatus<T>(what: string, response: ApiResponse<T>, expected: number): T {
  if (response.status !== expected) {
    throw new Error(`${what}: expected HTTP ${expected}, got ${response.status}: ${response.text}`);
  }
  return response.body;
}

/** True when `url` answers with `status`; a refused connection (not listening yet) is false. */
export async function answers(url: string, status = 200): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.status === status;
  } catch {
    return false;
  }
}

/** One request as the sandbox logged it (GET /__admin/requests). */
export type LoggedRequest = RequestLogEntry;

/** A call to the sandbox's /__admin routes (no auth); the parsed answer, undefined when empty. */
export async function sandboxAdmin<T = unknown>(
  adminUrl: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${adminUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`sandbox admin ${method} ${path}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export interface RawHttpOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Sent whole after the headers; leave out to send none. */
  body?: string | Buffer;
  /** The client address to connect from (any 127.0.0.0/8 address is this machine). */
  localAddress?: string;
  timeoutMs?: number;
}

/**
 * One request over node:http from a chosen local address (fetch cannot pick one): how tests and
 * benchmarks play several clients on one machine.
 */
export function rawHttp(
  url: string,
  options: RawHttpOptions = {},
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        localAddress: options.localAddress,
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}
