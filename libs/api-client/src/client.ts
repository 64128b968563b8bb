import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, paths } from './generated/openapi-types';

/** Every operation of openapi.json, typed: `api.GET('/v1/messages', { params: { query } })`. */
export type ApiClient = Client<paths>;

export interface ApiClientOptions {
  /** Where the service answers, e.g. `http://127.0.0.1:3000`; '' (the default) is the page's own origin. */
  baseUrl?: string;
  /** The API key, or how to read it at each request (a page whose key changes while it lives). */
  key?: string | (() => string | null | undefined);
}

export function createApiClient({ baseUrl = '', key }: ApiClientOptions = {}): ApiClient {
  const client = createClient<paths>({ baseUrl });
  if (key !== undefined) client.use(bearer(key));
  return client;
}

function bearer(key: NonNullable<ApiClientOptions['key']>): Middleware {
  return {
    onRequest({ request }) {
      const value = typeof key === 'function' ? key() : key;
      // A request that names its own key (a sign-in probe) keeps it.
      if (value && !request.headers.has('authorization')) {
        request.headers.set('authorization', `Bearer ${value}`);
      }
      return request;
    },
  };
}

/** An answer outside 2xx, with the error envelope's code and message when it had one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type ErrorEnvelope = components['schemas']['ErrorEnvelope'];

function isEnvelope(body: unknown): body is ErrorEnvelope {
  return typeof body === 'object' && body !== null && 'error' in body;
}

/** The answer's body, or an ApiError: for callers that treat every error alike. */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  const envelope = isEnvelope(error) ? error.error : undefined;
  throw new ApiError(
    response.status,
    envelope?.code ?? 'http_error',
    envelope?.message ?? `HTTP ${response.status}`,
  );
}
