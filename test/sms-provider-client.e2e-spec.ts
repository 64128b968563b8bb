import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { inspect } from 'node:util';
import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  SmsProviderClient,
  SmsProviderError,
  SmsProviderModule,
  type SmsProviderModuleOptions,
  verifyWebhookSignature,
} from '@app/sms-provider';
import { startSandbox } from '../apps/sms-provider-sandbox/src/bootstrap';
import { waitFor } from '../tools/stack';

// Keys are per concern so one test's traffic never eats another's rate-limit window or credits.
const MAIN_KEY = 'sk_test_e2e_client_main';
const BROKE_KEY = 'sk_test_e2e_client_broke';
const BURST_KEY = 'sk_test_e2e_client_burst';
const HOOK_KEY = 'sk_test_e2e_client_hook';
const BATCH_KEY = 'sk_test_e2e_client_batch';
const UNKNOWN_KEY = 'sk_test_e2e_client_not_registered_4f2a';

const TO = '+14155550100';
// The sandbox fails numbers ending in 666 after sending them.
const FAILS = '+14155550666';

// Nest's start-up lines of the in-process sandbox ("Mapped {/v1/messages, POST} route").
Logger.overrideLogger(false);

type Sandbox = Awaited<ReturnType<typeof startSandbox>>;

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function rejectionOf(promise: Promise<unknown>): Promise<SmsProviderError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SmsProviderError);
    return error as SmsProviderError;
  }
  throw new Error('expected the call to fail');
}

/** Resolves just after the next wall-clock second starts (the sandbox's windows are aligned to them). */
function nextSecond(): Promise<void> {
  return delay(1000 - (Date.now() % 1000) + 20);
}

describe('SmsProviderClient against the sandbox (e2e)', () => {
  let sandbox: Sandbox;
  const modules: TestingModule[] = [];

  async function clientFor(options: Partial<SmsProviderModuleOptions> = {}) {
    const moduleRef = await Test.createTestingModule({
      imports: [
        SmsProviderModule.forRoot({
          baseUrl: sandbox.url,
          apiKey: MAIN_KEY,
          timeoutMs: 5000,
          ...options,
        }),
      ],
    }).compile();
    modules.push(moduleRef);
    return moduleRef.get(SmsProviderClient);
  }

  beforeAll(async () => {
    sandbox = await startSandbox({
      port: 0,
      apiKeys: `${MAIN_KEY}:standard:100000,${BROKE_KEY}:standard:0,${BURST_KEY}:standard:100000,${HOOK_KEY}:standard:100000,${BATCH_KEY}:standard:100000`,
      sentDelayMs: 50,
      deliveredDelayMs: 100,
      logLevel: 'silent',
    });
  });

  afterAll(async () => {
    await Promise.all(modules.map((moduleRef) => moduleRef.close()));
    await sandbox?.close();
  });

  describe('happy paths', () => {
    it('sends a message and reads the rate-limit headers of the answer', async () => {
      const client = await clientFor();
      const result = await client.sendMessage({ to: TO, message: 'Hello from e2e', from: 'Acme' });

      expect(result.httpStatus).toBeGreaterThanOrEqual(200);
      expect(result.httpStatus).toBeLessThan(300);
      expect(result.data).toMatchObject({ success: true, status: 'queued' });
      expect(result.data.message_id).toEqual(expect.any(String));
      expect(result.data.credits_used).toBe(1);
      expect(result.rateLimit).toEqual({
        limit: 10,
        remaining: expect.any(Number),
        resetSeconds: expect.any(Number),
      });
      expect(result.rateLimit.remaining).toBeLessThan(10);
    });

    it('gets a sent message by id', async () => {
      const client = await clientFor();
      const sent = await client.sendMessage({ to: TO, message: 'Track me' });
      const result = await client.getMessage(sent.data.message_id);

      expect(result.data).toMatchObject({
        message_id: sent.data.message_id,
        to: TO,
        message: 'Track me',
      });
      expect(['queued', 'sent', 'delivered']).toContain(result.data.status);
      expect(result.rateLimit.limit).toBe(10);
    });

    it('sends to several recipients under one id and reads each one’s status', async () => {
      const client = await clientFor({ apiKey: BATCH_KEY });
      const sent = await client.sendMessage({ to: [TO, FAILS], message: 'Batch' });
      expect(sent.data).toEqual({
        success: true,
        message_id: expect.any(String),
        credits_used: 2,
        credits_remaining: 99_998,
        status: 'queued',
        recipients: [
          { to: TO, status: 'queued' },
          { to: FAILS, status: 'queued' },
        ],
      });

      // Polled at most 5 times a second: the standard plan allows 10.
      const final = await waitFor(
        async () => {
          const { data } = await client.getMessage(sent.data.message_id);
          return data.recipients?.every((r) => r.status !== 'queued' && r.status !== 'sent')
            ? data
            : null;
        },
        { timeoutMs: 5000, intervalMs: 200, what: 'both recipients final' },
      );
      expect(final.to).toBeUndefined();
      expect(final.status).toBe('failed');
      expect(final.recipients?.map((r) => [r.to, r.status, r.error?.code ?? null])).toEqual([
        [TO, 'delivered', null],
        [FAILS, 'failed', 'undeliverable'],
      ]);
    });

    it('gets the account', async () => {
      const client = await clientFor();
      const result = await client.getAccount();
      expect(result.httpStatus).toBe(200);
      expect(result.data).toEqual(expect.objectContaining({ plan: 'standard' }));
    });

    it('registers a webhook whose signed deliveries verify with our helper', async () => {
      const received: { body: string; signature: unknown }[] = [];
      const sink = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          received.push({
            body: Buffer.concat(chunks).toString('utf8'),
            signature: req.headers['x-smsprovider-signature'],
          });
          res.writeHead(200).end();
        });
      });
      const port = await listen(sink);
      try {
        const url = `http://127.0.0.1:${port}/sms-webhook`;
        const client = await clientFor({ apiKey: HOOK_KEY });
        const result = await client.registerWebhook({ url, events: ['message.delivered'] });
        expect(result.data).toMatchObject({ success: true, url, events: ['message.delivered'] });

        const sent = await client.sendMessage({ to: TO, message: 'Hook me' });
        await waitFor(() => received.length > 0, { timeoutMs: 5000, what: 'the signed webhook' });
        const [delivery] = received;
        expect(JSON.parse(delivery.body)).toMatchObject({
          event: 'message.delivered',
          message_id: sent.data.message_id,
        });
        expect(
          verifyWebhookSignature(delivery.body, delivery.signature, sandbox.config.webhookSecret),
        ).toBe(true);
      } finally {
        await close(sink);
      }
    });
  });

  describe('documented provider errors', () => {
    it('authentication_failed with an unknown key', async () => {
      const client = await clientFor({ apiKey: UNKNOWN_KEY });
      const error = await rejectionOf(client.getAccount());
      expect(error).toMatchObject({
        code: 'authentication_failed',
        httpStatus: 401,
        retryable: false,
      });
    });

    it('insufficient_credits with an account that has none', async () => {
      const client = await clientFor({ apiKey: BROKE_KEY });
      const error = await rejectionOf(client.sendMessage({ to: TO, message: 'No money' }));
      expect(error).toMatchObject({ code: 'insufficient_credits', retryable: false });
      expect(error.httpStatus).toBeGreaterThanOrEqual(400);
      expect(error.httpStatus).toBeLessThan(500);
    });

    it('invalid_phone_number', async () => {
      const client = await clientFor();
      const error = await rejectionOf(client.sendMessage({ to: '4155550100', message: 'Hi' }));
      expect(error).toMatchObject({ code: 'invalid_phone_number', httpStatus: 400 });
    });

    it('message_too_long at 1601 characters (1600 is accepted)', async () => {
      const client = await clientFor();
      const error = await rejectionOf(client.sendMessage({ to: TO, message: 'a'.repeat(1601) }));
      expect(error).toMatchObject({ code: 'message_too_long', httpStatus: 400 });
      await expect(
        client.sendMessage({ to: TO, message: 'a'.repeat(1600) }),
      ).resolves.toMatchObject({ data: { success: true } });
    });

    it('rate_limit_exceeded with retryAfterMs on the 11th request within one second', async () => {
      const client = await clientFor({ apiKey: BURST_KEY });
      await nextSecond();
      const results = await Promise.allSettled(
        Array.from({ length: 11 }, (_, i) => client.sendMessage({ to: TO, message: `Burst ${i}` })),
      );
      const refused = results.filter((r) => r.status === 'rejected');
      const accepted = results.filter((r) => r.status === 'fulfilled');

      expect(refused.length).toBeGreaterThanOrEqual(1);
      expect(accepted.length).toBeLessThanOrEqual(10);
      for (const { reason } of refused) {
        expect(reason).toBeInstanceOf(SmsProviderError);
        const error = reason as SmsProviderError;
        expect(error).toMatchObject({
          code: 'rate_limit_exceeded',
          httpStatus: 429,
          retryable: true,
          rateLimit: { limit: 10, remaining: 0 },
        });
        expect(error.retryAfterMs).toBeGreaterThan(0);
        expect(error.retryAfterMs).toBeLessThanOrEqual(1000);
      }
    });
  });

  describe('transport failures', () => {
    let silent: Server;
    let silentPort: number;

    beforeAll(async () => {
      // Accepts connections and reads requests but never answers.
      silent = createServer(() => undefined);
      silentPort = await listen(silent);
    });

    afterAll(() => close(silent));

    it('times out after timeoutMs against a server that never answers', async () => {
      const client = await clientFor({
        baseUrl: `http://127.0.0.1:${silentPort}/v1`,
        timeoutMs: 200,
        getRetries: 0,
      });
      const started = Date.now();
      const error = await rejectionOf(client.getAccount());
      const elapsed = Date.now() - started;

      expect(error).toMatchObject({ code: 'timeout', retryable: true, httpStatus: null });
      expect(elapsed).toBeGreaterThanOrEqual(150);
      expect(elapsed).toBeLessThan(2000);
    });

    it('does not retry a timed-out send', async () => {
      let received = 0;
      // Sends are never answered; the probe is, at once.
      const counting = createServer((req, res) => {
        if (req.url === '/probe') res.end('ok');
        else received += 1;
      });
      const port = await listen(counting);
      try {
        const client = await clientFor({ baseUrl: `http://127.0.0.1:${port}/v1`, timeoutMs: 200 });
        const error = await rejectionOf(client.sendMessage({ to: TO, message: 'Once' }));
        expect(error.code).toBe('timeout');
        // A retry would have been sent before the rejection, so before this probe: once the probe
        // is answered, the server has seen every request the client made.
        await (await fetch(`http://127.0.0.1:${port}/probe`)).text();
        expect(received).toBe(1);
      } finally {
        await close(counting);
      }
    });

    it('reports network_error for a closed port, after retrying the GET', async () => {
      const probe = createServer();
      const port = await listen(probe);
      await close(probe);

      const client = await clientFor({
        baseUrl: `http://127.0.0.1:${port}/v1`,
        getRetries: 2,
        retryBaseDelayMs: 10,
      });
      const error = await rejectionOf(client.getAccount());
      expect(error).toMatchObject({ code: 'network_error', retryable: true, httpStatus: null });
      expect(error.message).toContain('ECONNREFUSED');
    });
  });

  describe('API key secrecy', () => {
    const SECRET_KEY = 'sk_test_e2e_must_never_leak_91c7';

    function expectNoKey(error: SmsProviderError) {
      expect(JSON.stringify(error)).not.toContain(SECRET_KEY);
      expect(inspect(error, { depth: 10 })).not.toContain(SECRET_KEY);
      expect(inspect(error, { depth: 10, showHidden: true })).not.toContain(SECRET_KEY);
      expect(error.stack ?? '').not.toContain(SECRET_KEY);
      expect(error.message).not.toContain(SECRET_KEY);
    }

    it('keeps the key out of a rejected call (authentication_failed)', async () => {
      const client = await clientFor({ apiKey: SECRET_KEY });
      const error = await rejectionOf(client.sendMessage({ to: TO, message: 'Hi' }));
      expect(error.code).toBe('authentication_failed');
      expectNoKey(error);
    });

    it('keeps the key out of a transport failure (the axios error holds the headers)', async () => {
      const probe = createServer();
      const port = await listen(probe);
      await close(probe);
      const client = await clientFor({
        apiKey: SECRET_KEY,
        baseUrl: `http://127.0.0.1:${port}/v1`,
        getRetries: 0,
      });
      const error = await rejectionOf(client.getAccount());
      expect(error.code).toBe('network_error');
      expectNoKey(error);
    });
  });
});
