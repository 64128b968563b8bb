import { SmsProviderError } from './errors';
import { parseRateLimitHeaders, retryAfterMsFrom, type HeaderSource } from './rate-limit';
import type { ProviderErrorCode, RateLimitInfo } from './types';

/** The codes provider-api.md documents ("Common Error Codes"). */
export const PROVIDER_ERROR_CODES = [
  'authentication_failed',
  'insufficient_credits',
  'invalid_phone_number',
  'message_too_long',
  'rate_limit_exceeded',
] as const satisfies readonly ProviderErrorCode[];

const KNOWN_PROVIDER_CODES: ReadonlySet<string> = new Set(PROVIDER_ERROR_CODES);

/** Wait used after a 429 that carries no usable X-RateLimit-Reset. */
export const DEFAULT_RATE_LIMIT_RETRY_MS = 1000;

// Errors from Node's socket layer that mean "the request did not get a usable answer", so the
// same call may succeed later.
/** Failures before any connection exists: nothing of the request can have left. */
const NEVER_SENT_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ERR_NETWORK',
  'ERR_SOCKET_CLOSED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'EPROTO',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
]);

// axios reports its own `timeout` as ECONNABORTED (ETIMEDOUT with clarifyTimeoutError); the
// socket layer uses ETIMEDOUT for a connect that never completes.
const TIMEOUT_CODES: ReadonlySet<string> = new Set(['ECONNABORTED', 'ETIMEDOUT']);

/** The parts of an HTTP answer the mapping needs (an AxiosResponse fits). */
export interface ProviderHttpResponse {
  status: number;
  data: unknown;
  headers?: HeaderSource;
}

/**
 * What went wrong, as the client saw it:
 * - `response`: the provider answered, but not with a usable success (any status; a 2xx whose body
 *   did not have the expected shape lands here too).
 * - `error`: no usable answer (socket error, timeout, abort); an AxiosError that carries a
 *   response is treated as that response.
 */
export type ProviderFailure =
  | { response: ProviderHttpResponse; error?: undefined; timedOut?: undefined }
  | { error: unknown; response?: undefined; timedOut?: boolean };

export interface ToProviderErrorContext {
  /** Prefix for the message, e.g. "POST /messages": says which call failed without any payload. */
  operation?: string;
  /** Values that must never appear in the message (the API key), in case the provider echoes them. */
  secrets?: readonly string[];
}

interface ProviderEnvelope {
  code: string | null;
  message: string | null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `{success:false, error:{code, message}}`, tolerating a missing or non-string message. */
function readEnvelope(data: unknown): ProviderEnvelope | null {
  if (!isRecord(data) || data.success !== false || !isRecord(data.error)) return null;
  const { code, message } = data.error;
  return {
    code: typeof code === 'string' && code.length > 0 ? code : null,
    message: typeof message === 'string' && message.length > 0 ? message : null,
  };
}

const MAX_PROVIDER_MESSAGE = 300;

function redact(text: string, secrets: readonly string[] | undefined): string {
  let out = text;
  for (const secret of secrets ?? []) {
    // Short values would redact ordinary words; an API key is never that short.
    if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out;
}

function compose(context: ToProviderErrorContext | undefined, detail: string): string {
  const text = context?.operation ? `${context.operation}: ${detail}` : detail;
  return redact(text, context?.secrets);
}

function readErrorCode(error: unknown): string | null {
  if (!isRecord(error) && !(error instanceof Error)) return null;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : null;
}

function isAxiosLike(error: unknown): error is { isAxiosError: true; response?: unknown } {
  return isRecord(error) || error instanceof Error
    ? (error as { isAxiosError?: unknown }).isAxiosError === true
    : false;
}

function isHttpResponse(value: unknown): value is ProviderHttpResponse {
  return isRecord(value) && typeof value.status === 'number';
}

function fromResponse(
  response: ProviderHttpResponse,
  context: ToProviderErrorContext | undefined,
): SmsProviderError {
  const { status } = response;
  const rateLimit: RateLimitInfo = parseRateLimitHeaders(response.headers);
  const envelope = readEnvelope(response.data);
  const providerCode = envelope?.code ?? null;
  const providerMessage =
    envelope?.message !== null && envelope?.message !== undefined
      ? envelope.message.slice(0, MAX_PROVIDER_MESSAGE)
      : null;
  const base = { httpStatus: status, rateLimit, providerCode };

  // Status first for 429: whatever the body says (a proxy may send its own), the advice is to wait.
  if (status === 429 || providerCode === 'rate_limit_exceeded') {
    return new SmsProviderError({
      ...base,
      code: 'rate_limit_exceeded',
      message: compose(context, providerMessage ?? 'rate limit exceeded'),
      retryAfterMs: retryAfterMsFrom(rateLimit, DEFAULT_RATE_LIMIT_RETRY_MS),
    });
  }

  // A broken server is worth retrying whatever code it attached; the code is kept for diagnosis.
  if (status >= 500) {
    return new SmsProviderError({
      ...base,
      code: 'server_error',
      message: compose(context, `provider server error (HTTP ${status})`),
    });
  }

  if (providerCode !== null && KNOWN_PROVIDER_CODES.has(providerCode)) {
    return new SmsProviderError({
      ...base,
      code: providerCode as ProviderErrorCode,
      message: compose(context, providerMessage ?? providerCode.replace(/_/g, ' ')),
    });
  }

  const detail =
    providerCode !== null
      ? `unknown provider error code "${providerCode.slice(0, 64)}" (HTTP ${status})`
      : status >= 200 && status < 300
        ? `unexpected response body (HTTP ${status})`
        : `unexpected response (HTTP ${status})`;
  return new SmsProviderError({
    ...base,
    code: 'unexpected_response',
    message: compose(context, detail),
  });
}

/**
 * The single place where a failed provider call becomes an `SmsProviderError`.
 *
 * The result deliberately carries no `cause`: an AxiosError holds the request config, whose
 * headers contain the API key, and would leak it through `util.inspect` or a logger that
 * serialises causes. Only the error code of the underlying failure is kept, in the message.
 */
export function toProviderError(
  failure: ProviderFailure,
  context?: ToProviderErrorContext,
): SmsProviderError {
  if (failure.response !== undefined) return fromResponse(failure.response, context);

  const { error } = failure;
  if (error instanceof SmsProviderError) return error;

  if (isAxiosLike(error) && isHttpResponse(error.response)) {
    return fromResponse(error.response, context);
  }

  const code = readErrorCode(error);
  if (failure.timedOut === true || (code !== null && TIMEOUT_CODES.has(code))) {
    return new SmsProviderError({
      code: 'timeout',
      message: compose(context, 'no response from the provider in time'),
    });
  }
  if (code !== null && NETWORK_CODES.has(code)) {
    return new SmsProviderError({
      code: 'network_error',
      message: compose(context, `could not reach the provider (${code})`),
      neverSent: NEVER_SENT_CODES.has(code),
    });
  }

  // Anything else (a bug, an aborted request, an unforeseen library error) is not known to be
  // transient, so it is not marked retryable. Only the error's name and code are reported.
  const name = error instanceof Error ? error.name : typeof error;
  return new SmsProviderError({
    code: 'unexpected_response',
    message: compose(context, `request failed (${code ?? name})`),
  });
}
