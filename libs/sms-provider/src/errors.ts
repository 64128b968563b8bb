import type { ProviderErrorCode, RateLimitInfo } from './types';

const RETRYABLE: ReadonlySet<ProviderErrorCode> = new Set([
  'rate_limit_exceeded',
  'network_error',
  'timeout',
  'server_error',
]);

export interface SmsProviderErrorInit {
  code: ProviderErrorCode;
  message: string;
  httpStatus?: number | null;
  retryAfterMs?: number | null;
  rateLimit?: RateLimitInfo | null;
  /** The provider's own error code when it was not one we know (kept for diagnosis). */
  providerCode?: string | null;
  /** The request certainly never reached the provider (no connection was made). */
  neverSent?: boolean;
  /** The caller's name for the account the call went to, when it holds several. */
  account?: string | null;
  cause?: unknown;
}

/**
 * The one error the client throws. `code` says what happened; `retryable` whether trying the same
 * call later can succeed. It never carries request headers, so the API key cannot leak through it.
 */
export class SmsProviderError extends Error {
  readonly code: ProviderErrorCode;
  readonly httpStatus: number | null;
  readonly retryable: boolean;
  /** From X-RateLimit-Reset on a 429: how long to wait before the next call. */
  readonly retryAfterMs: number | null;
  readonly rateLimit: RateLimitInfo | null;
  readonly providerCode: string | null;
  /**
   * True when the request certainly never reached the provider: the connection was refused or
   * the host did not resolve. The provider cannot have counted it, let alone sent an SMS.
   */
  readonly neverSent: boolean;
  readonly account: string | null;

  constructor(init: SmsProviderErrorInit) {
    super(init.message);
    this.name = 'SmsProviderError';
    this.code = init.code;
    this.httpStatus = init.httpStatus ?? null;
    this.retryable = RETRYABLE.has(init.code);
    this.retryAfterMs = init.retryAfterMs ?? null;
    this.rateLimit = init.rateLimit ?? null;
    this.providerCode = init.providerCode ?? null;
    this.neverSent = init.neverSent ?? false;
    this.account = init.account ?? null;
  }

  /** The same error, naming the account it came from. */
  withAccount(account: string): SmsProviderError {
    return new SmsProviderError({
      code: this.code,
      message: this.message,
      httpStatus: this.httpStatus,
      retryAfterMs: this.retryAfterMs,
      rateLimit: this.rateLimit,
      providerCode: this.providerCode,
      neverSent: this.neverSent,
      account,
    });
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      httpStatus: this.httpStatus,
      retryable: this.retryable,
      retryAfterMs: this.retryAfterMs,
      providerCode: this.providerCode,
      neverSent: this.neverSent,
      account: this.account,
    };
  }
}
