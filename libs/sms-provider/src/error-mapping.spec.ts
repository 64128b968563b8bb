import { inspect } from 'node:util';
import { AxiosError, AxiosHeaders, type InternalAxiosRequestConfig } from 'axios';
import { SmsProviderError } from './errors';
import { PROVIDER_ERROR_CODES, toProviderError } from './error-mapping';

const API_KEY = 'sk_live_supersecret_123';

function envelope(code: string, message = `it failed: ${code}`) {
  return { success: false, error: { code, message } };
}

function axiosError(code: string, message = `failure ${code}`): AxiosError {
  const config = {
    headers: new AxiosHeaders({ Authorization: `Bearer ${API_KEY}` }),
    url: '/messages',
  } as InternalAxiosRequestConfig;
  return new AxiosError(message, code, config);
}

describe(toProviderError.name, () => {
  describe('provider answers', () => {
    it.each(PROVIDER_ERROR_CODES.filter((code) => code !== 'rate_limit_exceeded'))(
      'keeps the documented code %s',
      (code) => {
        const error = toProviderError({ response: { status: 400, data: envelope(code) } });
        expect(error).toBeInstanceOf(SmsProviderError);
        expect(error).toMatchObject({
          code,
          httpStatus: 400,
          retryable: false,
          providerCode: code,
          retryAfterMs: null,
        });
        expect(error.message).toBe(`it failed: ${code}`);
      },
    );

    it('maps 429 to rate_limit_exceeded with retryAfterMs from X-RateLimit-Reset', () => {
      const error = toProviderError({
        response: {
          status: 429,
          data: envelope('rate_limit_exceeded'),
          headers: {
            'x-ratelimit-limit': '10',
            'x-ratelimit-remaining': '0',
            'x-ratelimit-reset': '0.4',
          },
        },
      });
      expect(error).toMatchObject({
        code: 'rate_limit_exceeded',
        httpStatus: 429,
        retryable: true,
        retryAfterMs: 400,
        rateLimit: { limit: 10, remaining: 0, resetSeconds: 0.4 },
      });
    });

    it('falls back to 1000 ms on a 429 without a usable reset header, even without an envelope', () => {
      const error = toProviderError({ response: { status: 429, data: 'Too Many Requests' } });
      expect(error).toMatchObject({ code: 'rate_limit_exceeded', retryAfterMs: 1000 });
    });

    it.each([500, 502, 503, 504])('maps HTTP %i to a retryable server_error', (status) => {
      const error = toProviderError({ response: { status, data: '<html>bad gateway</html>' } });
      expect(error).toMatchObject({ code: 'server_error', httpStatus: status, retryable: true });
    });

    it('keeps the provider code of a 5xx envelope for diagnosis', () => {
      const error = toProviderError({ response: { status: 503, data: envelope('maintenance') } });
      expect(error).toMatchObject({ code: 'server_error', providerCode: 'maintenance' });
    });

    it('maps an unknown code on a 4xx to unexpected_response, keeping providerCode', () => {
      const error = toProviderError({
        response: { status: 404, data: envelope('message_not_found') },
      });
      expect(error).toMatchObject({
        code: 'unexpected_response',
        httpStatus: 404,
        retryable: false,
        providerCode: 'message_not_found',
      });
    });

    it.each([
      ['a 2xx body of the wrong shape', 200, { hello: 'world' }],
      ['a 2xx non-JSON body', 200, 'OK'],
      ['a 4xx without envelope', 400, { message: 'bad' }],
      ['a 4xx with an empty body', 401, ''],
      ['a redirect', 302, ''],
    ])('maps %s to unexpected_response', (_label, status, data) => {
      expect(toProviderError({ response: { status, data } })).toMatchObject({
        code: 'unexpected_response',
        httpStatus: status,
        providerCode: null,
      });
    });

    it('treats an error envelope on a 2xx by its code', () => {
      const error = toProviderError({
        response: { status: 200, data: envelope('insufficient_credits') },
      });
      expect(error.code).toBe('insufficient_credits');
    });

    it('uses the code as message when the provider gave none', () => {
      const error = toProviderError({
        response: {
          status: 401,
          data: { success: false, error: { code: 'authentication_failed' } },
        },
      });
      expect(error.message).toBe('authentication failed');
    });

    it('maps an AxiosError that carries a response like the response itself', () => {
      const error = axiosError('ERR_BAD_REQUEST');
      error.response = {
        status: 402,
        statusText: 'Payment Required',
        data: envelope('insufficient_credits'),
        headers: {},
        config: error.config!,
      };
      expect(toProviderError({ error })).toMatchObject({
        code: 'insufficient_credits',
        httpStatus: 402,
      });
    });
  });

  describe('no usable answer', () => {
    it.each(['ECONNABORTED', 'ETIMEDOUT'])('maps %s to timeout', (code) => {
      expect(toProviderError({ error: axiosError(code) })).toMatchObject({
        code: 'timeout',
        httpStatus: null,
        retryable: true,
      });
    });

    it('maps an abort by our own deadline to timeout', () => {
      expect(
        toProviderError({ error: axiosError('ERR_CANCELED', 'canceled'), timedOut: true }),
      ).toMatchObject({ code: 'timeout' });
    });

    it.each([
      'ECONNREFUSED',
      'ECONNRESET',
      'ENOTFOUND',
      'EAI_AGAIN',
      'EHOSTUNREACH',
      'EPIPE',
      'ERR_NETWORK',
    ])('maps %s to network_error', (code) => {
      const error = toProviderError({ error: axiosError(code) }, { operation: 'GET /account' });
      expect(error).toMatchObject({ code: 'network_error', retryable: true, httpStatus: null });
      expect(error.message).toBe(`GET /account: could not reach the provider (${code})`);
    });

    it('says a request was never sent only when no connection was made', () => {
      for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']) {
        expect(toProviderError({ error: axiosError(code) }).neverSent).toBe(true);
      }
      // A reset or a broken pipe may come after the request went out on a kept-alive socket.
      for (const code of ['ECONNRESET', 'EPIPE', 'ERR_NETWORK']) {
        expect(toProviderError({ error: axiosError(code) }).neverSent).toBe(false);
      }
      expect(toProviderError({ error: axiosError('ECONNABORTED') }).neverSent).toBe(false);
    });

    it('maps a plain Node socket error by its code', () => {
      const socketError = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
        code: 'ECONNREFUSED',
        syscall: 'connect',
      });
      expect(toProviderError({ error: socketError }).code).toBe('network_error');
    });

    it('maps anything else to a non-retryable unexpected_response', () => {
      expect(toProviderError({ error: new TypeError('boom') })).toMatchObject({
        code: 'unexpected_response',
        retryable: false,
      });
      expect(toProviderError({ error: axiosError('ERR_CANCELED', 'canceled') }).code).toBe(
        'unexpected_response',
      );
      expect(toProviderError({ error: 'a string' }).code).toBe('unexpected_response');
    });

    it('returns an SmsProviderError unchanged', () => {
      const original = new SmsProviderError({ code: 'timeout', message: 'x' });
      expect(toProviderError({ error: original })).toBe(original);
    });
  });

  describe('secrecy', () => {
    it('never carries the request config or its Authorization header', () => {
      const error = toProviderError({ error: axiosError('ECONNRESET') });
      expect(JSON.stringify(error)).not.toContain(API_KEY);
      expect(inspect(error, { depth: 10, showHidden: true })).not.toContain(API_KEY);
      expect(error.stack).not.toContain(API_KEY);
      expect(error.cause).toBeUndefined();
    });

    it('redacts a secret the provider echoes in its message', () => {
      const error = toProviderError(
        {
          response: { status: 401, data: envelope('authentication_failed', `bad key ${API_KEY}`) },
        },
        { secrets: [API_KEY] },
      );
      expect(error.message).toBe('bad key [redacted]');
      expect(error.stack).not.toContain(API_KEY);
    });

    it('bounds the length of a provider message', () => {
      const error = toProviderError({
        response: { status: 400, data: envelope('invalid_phone_number', 'x'.repeat(10_000)) },
      });
      expect(error.message.length).toBeLessThanOrEqual(300);
    });
  });
});
