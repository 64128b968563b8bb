import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { HttpService } from '@nestjs/axios';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { AxiosResponse } from 'axios';
import { firstValueFrom } from 'rxjs';
import { toProviderError } from './error-mapping';
import { SmsProviderError } from './errors';
import { parseRateLimitHeaders } from './rate-limit';
import {
  SMS_PROVIDER_OPTIONS,
  type SmsProviderModuleOptions,
} from './sms-provider.module-definition';
import type {
  ProviderAccount,
  ProviderErrorCode,
  ProviderMessage,
  ProviderResult,
  RegisterWebhookRequest,
  RegisterWebhookResponse,
  SendMessageRequest,
  SendMessageResponse,
} from './types';

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_GET_RETRIES = 2;
export const DEFAULT_RETRY_BASE_DELAY_MS = 100;
const MAX_RETRY_DELAY_MS = 2_000;
// Provider answers are a few hundred bytes; a huge body means something is wrong upstream.
const MAX_RESPONSE_BYTES = 1024 * 1024;

// Failures after which the same GET can reasonably succeed. 429 is absent on purpose: the caller's
// rate limiter must learn about it and wait for the window, not this client hammering it.
const RETRYABLE_GET_CODES: ReadonlySet<ProviderErrorCode> = new Set([
  'network_error',
  'timeout',
  'server_error',
]);

/** Snake-case wire body of POST /messages; undefined fields are left out, not sent as null. */
export function toSendMessageBody(request: SendMessageRequest): Record<string, unknown> {
  const body: Record<string, unknown> = { to: request.to, message: request.message };
  if (request.from !== undefined) body.from = request.from;
  if (request.scheduledAt !== undefined) {
    body.scheduled_at =
      request.scheduledAt instanceof Date ? request.scheduledAt.toISOString() : request.scheduledAt;
  }
  if (request.callbackUrl !== undefined) body.callback_url = request.callbackUrl;
  return body;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Shape checks are minimal on purpose: enough that callers can rely on the fields they key on
// (ids, status), lenient about extra or missing optional fields so a provider addition never
// turns a sent message into a reported failure.
function isSendMessageResponse(data: unknown): data is SendMessageResponse {
  return (
    isRecord(data) &&
    data.success !== false &&
    typeof data.message_id === 'string' &&
    data.message_id.length > 0
  );
}

/** Every entry names its recipient and status: callers match recipients of a batch by `to`. */
function isRecipientList(value: unknown): boolean {
  return (
    Array.isArray(value) &&
    value.every(
      (entry) =>
        isRecord(entry) && typeof entry.to === 'string' && typeof entry.status === 'string',
    )
  );
}

function isProviderMessage(data: unknown): data is ProviderMessage {
  return (
    isRecord(data) &&
    data.success !== false &&
    typeof data.message_id === 'string' &&
    typeof data.status === 'string' &&
    (data.recipients === undefined || isRecipientList(data.recipients))
  );
}

function isProviderAccount(data: unknown): data is ProviderAccount {
  return isRecord(data) && data.success !== false;
}

function isRegisterWebhookResponse(data: unknown): data is RegisterWebhookResponse {
  return isRecord(data) && data.success !== false;
}

interface Call<T> {
  method: 'GET' | 'POST';
  path: string;
  /** Names the call in errors and logs; never contains the body (phone numbers, text). */
  operation: string;
  body?: unknown;
  isExpected: (data: unknown) => data is T;
  retries: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Typed client of the SMS provider (provider-api.md). Every failure is an `SmsProviderError`.
 *
 * POST /messages is sent exactly once per call: the provider has no idempotency key, so retrying
 * after a timeout could deliver the SMS twice; the caller's queue decides. GETs are retried.
 */
@Injectable()
export class SmsProviderClient implements OnModuleDestroy {
  private readonly logger = new Logger(SmsProviderClient.name);
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly getRetries: number;
  private readonly retryBaseDelayMs: number;
  // A native private field: util.inspect and JSON.stringify of the client never show it.
  readonly #apiKey: string;
  // Reused connections avoid a TCP (and TLS) handshake per call, which keeps latency low and
  // steady enough for the downstream rate limiter to pace sends evenly.
  readonly #httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 });
  readonly #httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 64 });

  constructor(
    private readonly httpService: HttpService,
    @Inject(SMS_PROVIDER_OPTIONS) options: SmsProviderModuleOptions,
  ) {
    const { baseUrl, apiKey } = options;
    if (typeof baseUrl !== 'string' || !/^https?:\/\/[^/]/i.test(baseUrl)) {
      throw new Error('SmsProviderModule: baseUrl must be an absolute http(s) URL');
    }
    if (typeof apiKey !== 'string' || apiKey.trim() === '') {
      throw new Error('SmsProviderModule: apiKey must be a non-empty string');
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new Error('SmsProviderModule: timeoutMs must be a positive number');
    }
    const getRetries = options.getRetries ?? DEFAULT_GET_RETRIES;
    if (!Number.isInteger(getRetries) || getRetries < 0) {
      throw new Error('SmsProviderModule: getRetries must be a non-negative integer');
    }
    const retryBaseDelayMs = options.retryBaseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS;
    if (!Number.isFinite(retryBaseDelayMs) || retryBaseDelayMs < 0) {
      throw new Error('SmsProviderModule: retryBaseDelayMs must be a non-negative number');
    }
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.#apiKey = apiKey;
    this.timeoutMs = timeoutMs;
    this.getRetries = getRetries;
    this.retryBaseDelayMs = retryBaseDelayMs;
  }

  /**
   * POST /messages. Never retried here (see the class comment). A send to an array answers one
   * `message_id` for all its recipients.
   */
  async sendMessage(request: SendMessageRequest): Promise<ProviderResult<SendMessageResponse>> {
    const result = await this.call({
      method: 'POST',
      path: '/messages',
      operation: 'POST /messages',
      body: toSendMessageBody(request),
      isExpected: isSendMessageResponse,
      retries: 0,
    });
    // The send was accepted and paid for: a recipients list we cannot read is dropped rather
    // than turned into a failure (the id alone identifies the batch).
    if (result.data.recipients !== undefined && !isRecipientList(result.data.recipients)) {
      delete result.data.recipients;
    }
    return result;
  }

  /** GET /messages/{id}. An unreadable `recipients` list is an unexpected_response. */
  getMessage(messageId: string): Promise<ProviderResult<ProviderMessage>> {
    return this.call({
      method: 'GET',
      path: `/messages/${encodeURIComponent(messageId)}`,
      operation: 'GET /messages/{id}',
      isExpected: isProviderMessage,
      retries: this.getRetries,
    });
  }

  /** GET /account: credits and plan. */
  getAccount(): Promise<ProviderResult<ProviderAccount>> {
    return this.call({
      method: 'GET',
      path: '/account',
      operation: 'GET /account',
      isExpected: isProviderAccount,
      retries: this.getRetries,
    });
  }

  /** POST /webhooks. Not retried: a repeat could register the URL twice. */
  registerWebhook(
    request: RegisterWebhookRequest,
  ): Promise<ProviderResult<RegisterWebhookResponse>> {
    return this.call({
      method: 'POST',
      path: '/webhooks',
      operation: 'POST /webhooks',
      body: { url: request.url, events: request.events },
      isExpected: isRegisterWebhookResponse,
      retries: 0,
    });
  }

  onModuleDestroy(): void {
    // Idle keep-alive sockets would otherwise hold the process (and jest) open.
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
  }

  private async call<T>(call: Call<T>): Promise<ProviderResult<T>> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.attempt(call);
      } catch (error) {
        if (
          !(error instanceof SmsProviderError) ||
          attempt >= call.retries ||
          !RETRYABLE_GET_CODES.has(error.code)
        ) {
          throw error;
        }
        const delay = this.backoffMs(attempt);
        this.logger.warn(
          `${call.operation} failed (${error.code}); retry ${attempt + 1} of ${call.retries} in ${delay} ms`,
        );
        await sleep(delay);
      }
    }
  }

  /** One HTTP exchange; always resolves to a result or rejects with an SmsProviderError. */
  private async attempt<T>(call: Call<T>): Promise<ProviderResult<T>> {
    const context = { operation: call.operation, secrets: [this.#apiKey] };
    // axios' `timeout` restarts on socket activity; this abort is a hard deadline for the whole
    // exchange, so a provider trickling bytes cannot hold a worker forever.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.timeoutMs);
    let response: AxiosResponse<unknown>;
    try {
      response = await firstValueFrom(
        this.httpService.request<unknown>({
          method: call.method,
          baseURL: this.baseUrl,
          url: call.path,
          data: call.body,
          headers: {
            Authorization: `Bearer ${this.#apiKey}`,
            Accept: 'application/json',
            ...(call.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
          },
          timeout: this.timeoutMs,
          signal: deadline.signal,
          httpAgent: this.#httpAgent,
          httpsAgent: this.#httpsAgent,
          // Every status is classified by toProviderError, not by axios throwing.
          validateStatus: () => true,
          // A redirect would resend the bearer token somewhere we did not configure.
          maxRedirects: 0,
          maxContentLength: MAX_RESPONSE_BYTES,
          responseType: 'json',
        }),
      );
    } catch (error) {
      throw toProviderError({ error, timedOut: deadline.signal.aborted }, context);
    } finally {
      clearTimeout(timer);
    }

    const { status, data } = response;
    if (status >= 200 && status < 300 && call.isExpected(data)) {
      return { data, rateLimit: parseRateLimitHeaders(response.headers), httpStatus: status };
    }
    throw toProviderError({ response: { status, data, headers: response.headers } }, context);
  }

  /** Exponential with "equal jitter": half fixed, half random, capped. */
  private backoffMs(attempt: number): number {
    const exponential = Math.min(MAX_RETRY_DELAY_MS, this.retryBaseDelayMs * 2 ** attempt);
    return Math.round(exponential / 2 + Math.random() * (exponential / 2));
  }
}
