import { inspect } from 'node:util';
import type { HttpService } from '@nestjs/axios';
import { Logger } from '@nestjs/common';
import { AxiosError, AxiosHeaders, type AxiosRequestConfig, type AxiosResponse } from 'axios';
import { of, throwError } from 'rxjs';
import { SmsProviderError } from './errors';
import { SmsProviderClient, toSendMessageBody } from './sms-provider.client';
import type { SmsProviderModuleOptions } from './sms-provider.module-definition';

const API_KEY = 'sk_test_unit_secret';
const OPTIONS: SmsProviderModuleOptions = {
  baseUrl: 'http://provider.test/v1/',
  apiKey: API_KEY,
  retryBaseDelayMs: 0,
};

function response(status: number, data: unknown, headers: Record<string, string> = {}) {
  return of({ status, data, headers: new AxiosHeaders(headers) } as AxiosResponse<unknown>);
}

function failure(code: string) {
  return throwError(() => new AxiosError(`failed ${code}`, code));
}

function setup(options: Partial<SmsProviderModuleOptions> = {}) {
  const request = jest.fn();
  const client = new SmsProviderClient({ request } as unknown as HttpService, {
    ...OPTIONS,
    ...options,
  });
  const configOf = (call = 0) => request.mock.calls[call][0] as AxiosRequestConfig;
  return { client, request, configOf };
}

async function rejectionOf(promise: Promise<unknown>): Promise<SmsProviderError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SmsProviderError);
    return error as SmsProviderError;
  }
  throw new Error('expected a rejection');
}

describe(SmsProviderClient.name, () => {
  let client: SmsProviderClient | undefined;
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => {
    client?.onModuleDestroy();
    warn.mockRestore();
  });

  describe('sendMessage', () => {
    it('POSTs the snake_case body with the bearer key and returns data and rate-limit info', async () => {
      const ctx = setup();
      client = ctx.client;
      ctx.request.mockReturnValue(
        response(
          200,
          {
            success: true,
            message_id: 'msg_1',
            credits_used: 1,
            credits_remaining: 9,
            status: 'queued',
          },
          { 'X-RateLimit-Limit': '10', 'X-RateLimit-Remaining': '9', 'X-RateLimit-Reset': '1' },
        ),
      );

      const result = await ctx.client.sendMessage({
        to: '+14155550100',
        message: 'Hi',
        from: 'Acme',
        scheduledAt: new Date('2030-01-01T00:00:00Z'),
        callbackUrl: 'https://cb.test/x',
      });

      expect(result).toEqual({
        data: expect.objectContaining({ message_id: 'msg_1' }),
        rateLimit: { limit: 10, remaining: 9, resetSeconds: 1 },
        httpStatus: 200,
      });
      const config = ctx.configOf();
      expect(config).toMatchObject({
        method: 'POST',
        baseURL: 'http://provider.test/v1',
        url: '/messages',
        timeout: 10_000,
        maxRedirects: 0,
        data: {
          to: '+14155550100',
          message: 'Hi',
          from: 'Acme',
          scheduled_at: '2030-01-01T00:00:00.000Z',
          callback_url: 'https://cb.test/x',
        },
      });
      expect(config.headers).toMatchObject({ Authorization: `Bearer ${API_KEY}` });
      expect(config.httpAgent).toBeDefined();
      expect((config.httpAgent as { keepAlive?: boolean }).keepAlive).toBe(true);
    });

    it.each(['ECONNABORTED', 'ECONNRESET'])('is never retried, even after %s', async (code) => {
      const ctx = setup();
      client = ctx.client;
      ctx.request.mockReturnValue(failure(code));
      await rejectionOf(ctx.client.sendMessage({ to: '+14155550100', message: 'Hi' }));
      expect(ctx.request).toHaveBeenCalledTimes(1);
    });

    it('is not retried after a 5xx', async () => {
      const ctx = setup();
      client = ctx.client;
      ctx.request.mockReturnValue(response(503, 'down'));
      const error = await rejectionOf(
        ctx.client.sendMessage({ to: '+14155550100', message: 'Hi' }),
      );
      expect(error.code).toBe('server_error');
      expect(ctx.request).toHaveBeenCalledTimes(1);
    });

    it.each([
      ['no message_id', { success: true, status: 'queued' }],
      ['a numeric message_id', { success: true, message_id: 42 }],
      ['an empty message_id', { success: true, message_id: '' }],
      ['an array', []],
      ['text', 'OK'],
    ])('rejects a 2xx with %s as unexpected_response', async (_label, body) => {
      const ctx = setup();
      client = ctx.client;
      ctx.request.mockReturnValue(response(200, body));
      const error = await rejectionOf(
        ctx.client.sendMessage({ to: '+14155550100', message: 'Hi' }),
      );
      expect(error).toMatchObject({ code: 'unexpected_response', httpStatus: 200 });
    });

    it('returns the recipients of a send to an array under its one message id', async () => {
      const ctx = setup();
      client = ctx.client;
      const recipients = [
        { to: '+14155550100', status: 'queued' },
        { to: '+14155550123', status: 'queued' },
      ];
      ctx.request.mockReturnValue(
        response(200, {
          success: true,
          message_id: 'msg_1',
          credits_used: 2,
          credits_remaining: 8,
          status: 'queued',
          recipients,
        }),
      );
      const result = await ctx.client.sendMessage({
        to: ['+14155550100', '+14155550123'],
        message: 'Hi',
      });
      expect(result.data).toMatchObject({ message_id: 'msg_1', recipients });
      expect(ctx.configOf().data).toMatchObject({ to: ['+14155550100', '+14155550123'] });
    });

    it.each([
      ['not a list', { to: '+14155550100' }],
      ['an entry without to', [{ status: 'queued' }]],
      ['an entry without status', [{ to: '+14155550100' }]],
    ])('keeps an accepted send when recipients is %s, leaving the list out', async (_l, bad) => {
      const ctx = setup();
      client = ctx.client;
      ctx.request.mockReturnValue(
        response(200, { success: true, message_id: 'msg_1', status: 'queued', recipients: bad }),
      );
      const result = await ctx.client.sendMessage({ to: ['+14155550100'], message: 'Hi' });
      expect(result.data.message_id).toBe('msg_1');
      expect(result.data).not.toHaveProperty('recipients');
    });

    it('maps a provider envelope to its code', async () => {
      const ctx = setup();
      client = ctx.client;
      ctx.request.mockReturnValue(
        response(400, { success: false, error: { code: 'invalid_phone_number', message: 'bad' } }),
      );
      const error = await rejectionOf(ctx.client.sendMessage({ to: '+1', message: 'Hi' }));
      expect(error).toMatchObject({ code: 'invalid_phone_number', httpStatus: 400 });
    });
  });

  describe('getMessage', () => {
    const message = { message_id: 'msg/1', to: '+14155550100', message: 'Hi', status: 'sent' };

    it('GETs the encoded id', async () => {
      const ctx = setup();
      client = ctx.client;
      ctx.request.mockReturnValue(response(200, message));
      const result = await ctx.client.getMessage('msg/1');
      expect(result.data.status).toBe('sent');
      expect(ctx.configOf()).toMatchObject({ method: 'GET', url: '/messages/msg%2F1' });
      expect(ctx.configOf().data).toBeUndefined();
    });

    it('returns per-recipient statuses of a batch', async () => {
      const ctx = setup();
      client = ctx.client;
      const batch = {
        message_id: 'msg_2',
        message: 'Hi',
        status: 'sent',
        recipients: [
          { to: '+14155550100', status: 'delivered', sent_at: 'a', delivered_at: 'b', error: null },
          { to: '+14155550123', status: 'sent', sent_at: 'a', delivered_at: null, error: null },
        ],
      };
      ctx.request.mockReturnValue(response(200, batch));
      const result = await ctx.client.getMessage('msg_2');
      expect(result.data.recipients?.map((r) => [r.to, r.status])).toEqual([
        ['+14155550100', 'delivered'],
        ['+14155550123', 'sent'],
      ]);
    });

    it('rejects a message whose recipients cannot be read as unexpected_response', async () => {
      const ctx = setup({ getRetries: 0 });
      client = ctx.client;
      ctx.request.mockReturnValue(response(200, { ...message, recipients: [{ status: 'sent' }] }));
      const error = await rejectionOf(ctx.client.getMessage('msg/1'));
      expect(error).toMatchObject({ code: 'unexpected_response', httpStatus: 200 });
    });

    it('retries server errors and timeouts up to getRetries, then succeeds', async () => {
      const ctx = setup();
      client = ctx.client;
      ctx.request
        .mockReturnValueOnce(response(502, ''))
        .mockReturnValueOnce(failure('ECONNABORTED'))
        .mockReturnValueOnce(response(200, message));
      await expect(ctx.client.getMessage('msg/1')).resolves.toMatchObject({ httpStatus: 200 });
      expect(ctx.request).toHaveBeenCalledTimes(3);
      expect(warn).toHaveBeenCalledTimes(2);
      expect(warn).toHaveBeenCalledWith(
        expect.stringMatching(/^GET \/messages\/\{id\} failed \(server_error\); retry 1 of 2/),
      );
      expect(JSON.stringify(warn.mock.calls)).not.toContain(API_KEY);
    });

    it('gives up after getRetries extra attempts with the last error', async () => {
      const ctx = setup({ getRetries: 1 });
      client = ctx.client;
      ctx.request
        .mockReturnValueOnce(response(500, ''))
        .mockReturnValueOnce(failure('ECONNREFUSED'));
      const error = await rejectionOf(ctx.client.getMessage('msg_1'));
      expect(error.code).toBe('network_error');
      expect(ctx.request).toHaveBeenCalledTimes(2);
    });

    it.each([
      ['429', 429, { success: false, error: { code: 'rate_limit_exceeded', message: 'slow' } }],
      ['404', 404, { success: false, error: { code: 'message_not_found', message: 'no' } }],
      ['401', 401, { success: false, error: { code: 'authentication_failed', message: 'no' } }],
    ])('does not retry a %s', async (_label, status, body) => {
      const ctx = setup();
      client = ctx.client;
      ctx.request.mockReturnValue(response(status, body));
      await rejectionOf(ctx.client.getMessage('msg_1'));
      expect(ctx.request).toHaveBeenCalledTimes(1);
    });

    it('retries nothing when getRetries is 0', async () => {
      const ctx = setup({ getRetries: 0 });
      client = ctx.client;
      ctx.request.mockReturnValue(response(503, ''));
      await rejectionOf(ctx.client.getMessage('msg_1'));
      expect(ctx.request).toHaveBeenCalledTimes(1);
    });
  });

  describe('getAccount and registerWebhook', () => {
    it('GETs /account', async () => {
      const ctx = setup();
      client = ctx.client;
      ctx.request.mockReturnValue(response(200, { plan: 'standard', credits: 5 }));
      await expect(ctx.client.getAccount()).resolves.toMatchObject({
        data: { plan: 'standard', credits: 5 },
      });
      expect(ctx.configOf()).toMatchObject({ method: 'GET', url: '/account' });
    });

    it('POSTs /webhooks with url and events, once', async () => {
      const ctx = setup();
      client = ctx.client;
      ctx.request.mockReturnValue(response(503, ''));
      await rejectionOf(
        ctx.client.registerWebhook({ url: 'https://x.test/h', events: ['message.delivered'] }),
      );
      expect(ctx.request).toHaveBeenCalledTimes(1);
      expect(ctx.configOf()).toMatchObject({
        method: 'POST',
        url: '/webhooks',
        data: { url: 'https://x.test/h', events: ['message.delivered'] },
      });
    });
  });

  describe('options', () => {
    it.each([
      [{ baseUrl: 'provider.test/v1' }, /baseUrl/],
      [{ apiKey: '' }, /apiKey/],
      [{ timeoutMs: 0 }, /timeoutMs/],
      [{ getRetries: -1 }, /getRetries/],
      [{ getRetries: 1.5 }, /getRetries/],
    ])('refuses %p', (bad, message) => {
      expect(() => new SmsProviderClient({} as HttpService, { ...OPTIONS, ...bad })).toThrow(
        message,
      );
    });

    it('keeps the API key out of inspect and JSON of the client', () => {
      const ctx = setup();
      client = ctx.client;
      expect(inspect(ctx.client, { depth: 5 })).not.toContain(API_KEY);
      expect(JSON.stringify(ctx.client)).not.toContain(API_KEY);
    });
  });
});

describe(toSendMessageBody.name, () => {
  it('leaves out fields that were not given', () => {
    expect(toSendMessageBody({ to: ['+14155550100', '+14155550123'], message: 'Hi' })).toEqual({
      to: ['+14155550100', '+14155550123'],
      message: 'Hi',
    });
  });

  it('passes a string scheduledAt through unchanged', () => {
    expect(
      toSendMessageBody({
        to: '+14155550100',
        message: 'Hi',
        scheduledAt: '2030-01-01T09:00:00+02:00',
      }),
    ).toMatchObject({ scheduled_at: '2030-01-01T09:00:00+02:00' });
  });
});
