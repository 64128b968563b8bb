import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { analyzeMessage, isE164, verifyWebhookSignature } from '@app/sms-provider';
import { startSandbox, type RunningSandbox } from '../apps/sms-provider-sandbox/src/bootstrap';
import { loadSandboxConfig, resolveSandboxConfig } from '../apps/sms-provider-sandbox/src/config';

const SECRET = 'whsec_e2e_sandbox';
const DELIVERED = '+14155550100';
const OTHER = '+14155550123';
const REFUSED = '+14155550400';
const FAILED = '+14155550666';
const EXPIRED = '+14155550777';
const SILENT = '+14155550888';
const STUCK = '+14155550999';

// Bodies are checked by expect(), not by the compiler: JSON.parse's own (untyped) result.
type Json = ReturnType<typeof JSON.parse>;

interface ApiResponse {
  status: number;
  headers: Headers;
  body: Json;
}

interface Hit {
  headers: IncomingHttpHeaders;
  body: string;
  payload: Json;
}

interface Receiver {
  url: string;
  hits: Hit[];
  close(): Promise<void>;
}

let sandbox: RunningSandbox;

async function call(
  base: string,
  method: string,
  path: string,
  options: { key?: string | null; body?: unknown; rawBody?: string } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = {};
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  let body: string | undefined;
  if (options.rawBody !== undefined || options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = options.rawBody ?? JSON.stringify(options.body);
  }
  const response = await fetch(`${base}${path}`, { method, headers, body });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : null,
  };
}

const api = (key: string | null, method: string, path: string, body?: unknown) =>
  call(sandbox.url, method, path, { key, body });
const admin = (method: string, path: string, body?: unknown) =>
  call(sandbox.adminUrl, method, path, { body });
const send = (key: string, body: Record<string, unknown>) => api(key, 'POST', '/messages', body);

/** A fresh account per test, so no test spends another's rate-limit window or credits. */
async function newKey(plan = 'enterprise', credits = 100_000): Promise<string> {
  const key = `sk_e2e_${randomBytes(6).toString('hex')}`;
  const response = await admin('PUT', `/accounts/${key}`, { plan, credits });
  expect(response.status).toBe(200);
  return key;
}

/** Polls `probe` until it returns something other than undefined, or fails at the deadline. */
async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(15);
  }
}

async function messageIn(key: string, id: string, statuses: string[]) {
  return waitFor(`${id} to reach ${statuses.join('|')}`, async () => {
    const { body } = await api(key, 'GET', `/messages/${id}`);
    return statuses.includes(body.status) ? body : undefined;
  });
}

/** Waits until recipient `to` of message `id` is in one of `statuses`; returns that entry. */
async function recipientIn(key: string, id: string, to: string, statuses: string[]) {
  return waitFor(`${to} of ${id} to reach ${statuses.join('|')}`, async () => {
    const { body } = await api(key, 'GET', `/messages/${id}`);
    const entry = body.recipients.find((r: { to: string }) => r.to === to);
    return statuses.includes(entry.status) ? entry : undefined;
  });
}

async function webhookAttempts(messageId: string): Promise<Json[]> {
  return (await admin('GET', `/webhooks?message_id=${messageId}`)).body;
}

/** A local webhook receiver; `statusFor` picks each answer (200 by default). */
async function startReceiver(statusFor: (payload: Json) => number = () => 200): Promise<Receiver> {
  const hits: Hit[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const payload = JSON.parse(body);
      hits.push({ headers: request.headers, body, payload });
      response.writeHead(statusFor(payload)).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    hits,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const hitsFor = (receiver: Receiver, messageId: string, to?: string) =>
  receiver.hits.filter(
    (hit) => hit.payload.message_id === messageId && (to === undefined || hit.payload.to === to),
  );

/**
 * Runs a burst with a fresh key just after a wall-clock second starts (the sandbox's windows are
 * aligned to wall-clock seconds). If the request log shows the burst still straddled two windows
 * (a stalled machine), it is repeated with another fresh key rather than failing on timing.
 */
async function burstInOneWindow<T>(plan: string, burst: (key: string) => Promise<T>): Promise<T> {
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    const key = await newKey(plan);
    await delay(1000 - (Date.now() % 1000) + 5);
    const result = await burst(key);
    const log: { at: number }[] = (await admin('GET', `/requests?key=${key}`)).body;
    if (new Set(log.map((entry) => Math.floor(entry.at / 1000))).size === 1) return result;
  }
  throw new Error('Could not fit a burst into one rate-limit window in 3 attempts');
}

function expectRateLimitHeaders(response: ApiResponse, limit: number, remaining: number) {
  expect(response.headers.get('x-ratelimit-limit')).toBe(String(limit));
  expect(response.headers.get('x-ratelimit-remaining')).toBe(String(remaining));
  const reset = response.headers.get('x-ratelimit-reset');
  expect(reset).toMatch(/^\d+$/);
  expect(Number(reset)).toBeGreaterThanOrEqual(1);
}

beforeAll(async () => {
  // Nest's own start-up lines (routes mapped...) go through the process-wide logger, ours to set.
  Logger.overrideLogger(false);
  sandbox = await startSandbox({
    port: 0,
    sentDelayMs: 20,
    deliveredDelayMs: 40,
    webhookSecret: SECRET,
    webhookRetryBaseMs: 20,
    webhookMaxAttempts: 3,
    webhookTimeoutMs: 2000,
    apiKeys: 'sk_e2e_seeded:standard:500',
    logLevel: 'silent',
  });
});

afterAll(async () => {
  await sandbox?.close();
});

describe('configuration', () => {
  it('parses SANDBOX_* variables and fills in defaults', () => {
    const config = resolveSandboxConfig(
      loadSandboxConfig({
        SANDBOX_PORT: '0',
        SANDBOX_API_KEYS: 'sk_a:standard:5, sk_b:enterprise:7',
        SANDBOX_ERROR_RATE: '0.25',
        SANDBOX_FORCE_429: 'true',
        SANDBOX_SENT_DELAY_MS: '',
      }),
    );
    expect(config).toMatchObject({
      port: 0,
      apiKeys: [
        { key: 'sk_a', plan: 'standard', credits: 5 },
        { key: 'sk_b', plan: 'enterprise', credits: 7 },
      ],
      errorRate: 0.25,
      force429: true,
      sentDelayMs: 300,
      deliveredDelayMs: 1000,
      webhookSecret: 'whsec_sandbox',
    });
    expect(resolveSandboxConfig().apiKeys).toEqual([
      { key: 'sk_test_sandbox', plan: 'standard', credits: 100_000 },
    ]);
  });

  it.each([
    [{ SANDBOX_PORT: 'abc' }, /SANDBOX_PORT/],
    [{ SANDBOX_PORT: '70000' }, /SANDBOX_PORT/],
    [{ SANDBOX_ERROR_RATE: '1.5' }, /SANDBOX_ERROR_RATE/],
    [{ SANDBOX_FORCE_429: 'maybe' }, /SANDBOX_FORCE_429/],
    [{ SANDBOX_API_KEYS: 'sk_secret_value:gold:10' }, /SANDBOX_API_KEYS.*entry 1/],
    [{ SANDBOX_API_KEYS: 'sk_secret_value' }, /SANDBOX_API_KEYS/],
    [{ SANDBOX_LATENCY_MS: '-1' }, /SANDBOX_LATENCY_MS/],
  ])('rejects %p with one line naming the variable', (env, pattern) => {
    let message = '';
    try {
      resolveSandboxConfig(loadSandboxConfig(env));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(pattern);
    expect(message).not.toContain('\n');
    expect(message).not.toContain('sk_secret_value');
  });

  it.each([
    [
      { SANDBOX_PORT: '70000' },
      'SANDBOX_PORT (port) must be an integer from 0 to 65535, got 70000',
    ],
    [{ SANDBOX_PORT: '0x10' }, 'SANDBOX_PORT (port) must be a number, got "0x10"'],
    [{ SANDBOX_FAULT_SCOPE: 'some' }, 'SANDBOX_FAULT_SCOPE (faultScope) must be one of send, all'],
    [
      { SANDBOX_API_KEYS: 'sk_secret_value:standard:1.5' },
      'SANDBOX_API_KEYS (apiKeys) entry 1 has non-integer credits',
    ],
    [
      { SANDBOX_API_KEYS: 'sk_a:standard:1, sk_secret_value:gold:1' },
      'SANDBOX_API_KEYS (apiKeys) entry 2 has plan "gold"; use standard or enterprise',
    ],
    [
      { SANDBOX_API_KEYS: 'sk_secret_value:standard:1,sk_secret_value:enterprise:2' },
      'SANDBOX_API_KEYS (apiKeys) entry 2 repeats a key',
    ],
    [
      { SANDBOX_API_KEYS: ' , ' },
      'SANDBOX_API_KEYS (apiKeys) must list at least one key:plan:credits',
    ],
  ])('says what is wrong with %p', (env, problem) => {
    expect(() => resolveSandboxConfig(loadSandboxConfig(env))).toThrow(
      `Invalid sandbox configuration: ${problem}`,
    );
  });

  it('checks overrides from code like the environment', () => {
    expect(() =>
      resolveSandboxConfig({ apiKeys: [{ key: 'sk_a', plan: 'standard', credits: -1 }] }),
    ).toThrow(
      'Invalid sandbox configuration: SANDBOX_API_KEYS (apiKeys) entry 1 must have a non-negative integer of credits',
    );
    expect(() => resolveSandboxConfig({ errorRate: 2 })).toThrow(
      'SANDBOX_ERROR_RATE (errorRate) must be a number from 0 to 1, got 2',
    );
    expect(
      resolveSandboxConfig({ apiKeys: 'sk_a:enterprise:3', latencyMs: undefined }),
    ).toMatchObject({
      apiKeys: [{ key: 'sk_a', plan: 'enterprise', credits: 3 }],
      latencyMs: 0,
    });
  });

  it('starts with the documented dev key when given no overrides but a port', async () => {
    const defaults = await startSandbox({ port: 0, logLevel: 'silent' });
    try {
      expect(defaults.url).toBe(`http://127.0.0.1:${defaults.port}/v1`);
      expect(defaults.adminUrl).toBe(`http://127.0.0.1:${defaults.port}/__admin`);
      const account = await call(defaults.url, 'GET', '/account', { key: 'sk_test_sandbox' });
      expect(account.status).toBe(200);
      expect(account.body).toMatchObject({ plan: 'standard', credits_remaining: 100_000 });
    } finally {
      await defaults.close();
    }
  });
});

describe('authentication', () => {
  it('answers 401 authentication_failed in the provider envelope', async () => {
    const missing = await api(null, 'GET', '/account');
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({
      success: false,
      error: { code: 'authentication_failed', message: expect.any(String) },
    });

    const unknown = await api('sk_not_a_key', 'POST', '/messages', { to: DELIVERED, message: 'x' });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error.code).toBe('authentication_failed');
    expect(unknown.body.error.message).not.toContain('sk_not_a_key');

    const basic = await call(sandbox.url, 'GET', '/account');
    expect(basic.status).toBe(401);
  });

  it('accepts a seeded key and reports its account', async () => {
    const response = await api('sk_e2e_seeded', 'GET', '/account');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      plan: 'standard',
      credits: 500,
      credits_remaining: 500,
      rate_limit: { limit: 10 },
    });
  });
});

describe('rate limit', () => {
  it('lets 10 requests per second through on a standard key and refuses the 11th', async () => {
    const responses = await burstInOneWindow('standard', async (key) => {
      const results: ApiResponse[] = [];
      // Every route counts, whatever its outcome: an account read, a send, an unknown id.
      for (let i = 0; i < 11; i += 1) {
        if (i % 3 === 0) results.push(await api(key, 'GET', '/account'));
        else if (i % 3 === 1) results.push(await send(key, { to: DELIVERED, message: `n${i}` }));
        else results.push(await api(key, 'GET', '/messages/msg_unknown'));
      }
      return results;
    });

    responses.slice(0, 10).forEach((response, i) => {
      expect(response.status).toBe([200, 200, 404][i % 3]);
      expectRateLimitHeaders(response, 10, 9 - i);
    });
    const refused = responses[10];
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({
      success: false,
      error: { code: 'rate_limit_exceeded', message: expect.any(String) },
    });
    expectRateLimitHeaders(refused, 10, 0);
    expect(refused.headers.get('retry-after')).toBe(refused.headers.get('x-ratelimit-reset'));
  });

  it('lets 50 requests per second through on an enterprise key', async () => {
    const { first50, next } = await burstInOneWindow('enterprise', async (key) => {
      const first = await Promise.all(
        Array.from({ length: 50 }, () => api(key, 'GET', '/account')),
      );
      return { first50: first, next: await api(key, 'GET', '/account') };
    });
    expect(first50.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(
      first50.map((r) => Number(r.headers.get('x-ratelimit-remaining'))).sort((a, b) => a - b),
    ).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(next.status).toBe(429);
    expectRateLimitHeaders(next, 50, 0);
  });

  it('opens a new budget in the next window', async () => {
    const key = await burstInOneWindow('standard', async (k) => {
      for (let i = 0; i < 11; i += 1) await api(k, 'GET', '/account');
      return k;
    });
    const recovered = await waitFor('the next window', async () => {
      const response = await api(key, 'GET', '/account');
      return response.status === 200 ? response : undefined;
    });
    expect(Number(recovered.headers.get('x-ratelimit-remaining'))).toBeLessThan(10);
  });
});

describe('validation', () => {
  let key: string;
  beforeAll(async () => {
    key = await newKey();
  });

  it.each([
    ['no to', { message: 'hi' }, 'missing_parameter'],
    ['no message', { to: DELIVERED }, 'missing_parameter'],
    ['a number without +', { to: '4155550100', message: 'hi' }, 'invalid_phone_number'],
    ['a number with spaces', { to: '+1 415 555 0100', message: 'hi' }, 'invalid_phone_number'],
    ['one bad number of two', { to: [DELIVERED, '+1415'], message: 'hi' }, 'invalid_phone_number'],
    ['an empty recipient list', { to: [], message: 'hi' }, 'invalid_parameter'],
    [
      '1001 recipients',
      {
        to: Array.from({ length: 1001 }, (_, i) => `+1415555${String(i).padStart(4, '0')}`),
        message: 'hi',
      },
      'invalid_parameter',
    ],
    [
      'a number listed twice',
      { to: [DELIVERED, OTHER, DELIVERED], message: 'hi' },
      'invalid_parameter',
    ],
    ['a numeric to', { to: 14155550100, message: 'hi' }, 'invalid_parameter'],
    ['an empty message', { to: DELIVERED, message: '' }, 'invalid_parameter'],
    ['1601 characters', { to: DELIVERED, message: 'a'.repeat(1601) }, 'message_too_long'],
    [
      'a non-ISO scheduled_at',
      { to: DELIVERED, message: 'hi', scheduled_at: 'tomorrow' },
      'invalid_parameter',
    ],
    [
      'a scheduled_at without zone',
      { to: DELIVERED, message: 'hi', scheduled_at: '2026-12-01T09:00:00' },
      'invalid_parameter',
    ],
    [
      'a non-http callback_url',
      { to: DELIVERED, message: 'hi', callback_url: 'ftp://example.com' },
      'invalid_parameter',
    ],
    ['an empty from', { to: DELIVERED, message: 'hi', from: '' }, 'invalid_parameter'],
  ])('refuses %s with 400 %s and sends nothing', async (_label, body, code) => {
    const before = (await api(key, 'GET', '/account')).body.credits_remaining;
    const response = await send(key, body);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ success: false, error: { code, message: expect.any(String) } });
    expectRateLimitHeaders(response, 50, Number(response.headers.get('x-ratelimit-remaining')));
    expect((await api(key, 'GET', '/account')).body.credits_remaining).toBe(before);
  });

  it('accepts exactly 1600 characters', async () => {
    const response = await send(key, { to: DELIVERED, message: 'a'.repeat(1600) });
    expect(response.status).toBe(200);
    expect(response.body.credits_used).toBe(analyzeMessage('a'.repeat(1600)).segments);
  });

  it('answers unparsable JSON and unknown routes in the same envelope', async () => {
    const broken = await call(sandbox.url, 'POST', '/messages', { key, rawBody: '{"to":' });
    expect(broken.status).toBe(400);
    expect(broken.body).toEqual({
      success: false,
      error: { code: 'invalid_request', message: expect.any(String) },
    });
    const nowhere = await api(key, 'GET', '/nowhere');
    expect(nowhere.status).toBe(404);
    expect(nowhere.body.error.code).toBe('not_found');
  });

  it('answers 404 message_not_found for an unknown id and for another account’s message', async () => {
    const unknown = await api(key, 'GET', '/messages/msg_0000');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({
      success: false,
      error: { code: 'message_not_found', message: expect.any(String) },
    });
    const sent = await send(key, { to: DELIVERED, message: 'mine' });
    const stranger = await api(await newKey(), 'GET', `/messages/${sent.body.message_id}`);
    expect(stranger.status).toBe(404);
  });
});

describe('credits', () => {
  it('charges segments × recipients and refuses with 402 when the balance is short', async () => {
    const key = await newKey('enterprise', 5);
    const twoSegments = 'a'.repeat(200);
    expect(analyzeMessage(twoSegments).segments).toBe(2);

    const sent = await send(key, { to: [DELIVERED, OTHER], message: twoSegments });
    expect(sent.status).toBe(200);
    expect(sent.body).toEqual({
      success: true,
      message_id: expect.stringMatching(/^msg_[0-9a-f]+$/),
      credits_used: 4,
      credits_remaining: 1,
      status: 'queued',
      recipients: [
        { to: DELIVERED, status: 'queued' },
        { to: OTHER, status: 'queued' },
      ],
    });

    const short = await send(key, { to: [DELIVERED, OTHER], message: 'one segment' });
    expect(short.status).toBe(402);
    expect(short.body).toEqual({
      success: false,
      error: { code: 'insufficient_credits', message: expect.any(String) },
    });
    expect((await api(key, 'GET', '/account')).body).toMatchObject({
      credits: 1,
      credits_remaining: 1,
    });
    expect((await admin('GET', `/messages?key=${key}`)).body).toHaveLength(2);

    const single = await send(key, { to: DELIVERED, message: 'fits' });
    expect(single.body).toMatchObject({ credits_used: 1, credits_remaining: 0 });
    expect(single.body.recipients).toBeUndefined();

    await admin('PUT', `/accounts/${key}`, { credits: 10 });
    expect((await send(key, { to: DELIVERED, message: 'topped up' })).status).toBe(200);
  });

  it('takes 1000 recipients in one request under one id, one admin row each', async () => {
    const key = await newKey('enterprise', 1000);
    // Distinct numbers that all end in 100, a suffix with no special outcome.
    const numbers = Array.from({ length: 1000 }, (_, i) => `+1415${2000 + i}100`);
    const sent = await send(key, { to: numbers, message: 'everyone' });
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({ credits_used: 1000, credits_remaining: 0 });
    expect(sent.body.recipients.map((r: { to: string }) => r.to)).toEqual(numbers);
    const rows: { message_id: string; to: string }[] = (await admin('GET', `/messages?key=${key}`))
      .body;
    expect(rows.map((r) => r.to)).toEqual(numbers);
    expect(new Set(rows.map((r) => r.message_id))).toEqual(new Set([sent.body.message_id]));
    const log: unknown[] = (await admin('GET', `/requests?key=${key}`)).body;
    expect(log).toHaveLength(1);
  });

  it('counts UCS-2 segments with the library’s arithmetic', async () => {
    const key = await newKey('enterprise', 100);
    const text = 'ł'.repeat(71);
    const { segments, encoding } = analyzeMessage(text);
    expect({ segments, encoding }).toEqual({ segments: 2, encoding: 'UCS-2' });
    const sent = await send(key, { to: [DELIVERED, OTHER, FAILED], message: text });
    expect(sent.body).toMatchObject({ credits_used: 6, credits_remaining: 94 });
  });
});

describe('lifecycle and webhooks', () => {
  let receiver: Receiver;
  beforeEach(async () => {
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await receiver.close();
  });

  it('goes queued → sent → delivered and signs each webhook', async () => {
    const key = await newKey();
    const sent = await send(key, {
      to: DELIVERED,
      message: 'Hello',
      from: 'Acme',
      callback_url: receiver.url,
    });
    expect(sent.body.status).toBe('queued');
    const id: string = sent.body.message_id;

    const delivered = await messageIn(key, id, ['delivered']);
    expect(delivered).toMatchObject({
      message_id: id,
      to: DELIVERED,
      from: 'Acme',
      message: 'Hello',
      status: 'delivered',
      error: null,
    });
    // A one-number send lists its recipient too, so a reader can always use `recipients`.
    expect(delivered.recipients).toEqual([
      {
        to: DELIVERED,
        status: 'delivered',
        sent_at: delivered.sent_at,
        delivered_at: delivered.delivered_at,
        error: null,
      },
    ]);
    const sentAt = Date.parse(delivered.sent_at);
    const deliveredAt = Date.parse(delivered.delivered_at);
    expect(deliveredAt).toBeGreaterThanOrEqual(sentAt);

    const hits = await waitFor('two webhooks', () =>
      hitsFor(receiver, id).length >= 2 ? hitsFor(receiver, id) : undefined,
    );
    const events = hits.map((hit) => hit.payload.event).sort();
    expect(events).toEqual(['message.delivered', 'message.sent']);
    for (const hit of hits) {
      expect(verifyWebhookSignature(hit.body, hit.headers['x-smsprovider-signature'], SECRET)).toBe(
        true,
      );
      expect(
        verifyWebhookSignature(hit.body, hit.headers['x-smsprovider-signature'], 'wrong'),
      ).toBe(false);
      expect(hit.body).toBe(JSON.stringify(hit.payload));
      expect(hit.payload.timestamp).toEqual(Math.floor(hit.payload.timestamp));
      expect(Math.abs(hit.payload.timestamp - Date.now() / 1000)).toBeLessThan(10);
    }
    const deliveredHit = hits.find((hit) => hit.payload.event === 'message.delivered')!;
    expect(deliveredHit.payload).toEqual({
      event: 'message.delivered',
      message_id: id,
      to: DELIVERED,
      status: 'delivered',
      sent_at: delivered.sent_at,
      delivered_at: delivered.delivered_at,
      timestamp: expect.any(Number),
    });
  });

  it('gives each special suffix its documented outcome', async () => {
    for (const number of [REFUSED, FAILED, EXPIRED, SILENT, STUCK])
      expect(isE164(number)).toBe(true);
    const key = await newKey();

    const refused = await send(key, { to: REFUSED, message: 'x' });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('invalid_phone_number');
    const mixed = await send(key, { to: [DELIVERED, REFUSED], message: 'x' });
    expect(mixed.status).toBe(400);
    expect(mixed.body.error).toEqual({
      code: 'invalid_phone_number',
      message: `Phone number "${REFUSED}" cannot receive messages`,
    });
    expect((await admin('GET', `/messages?key=${key}`)).body).toEqual([]);
    expect((await api(key, 'GET', '/account')).body.credits_remaining).toBe(100_000);

    const sent = await send(key, {
      to: [FAILED, EXPIRED, SILENT, STUCK],
      message: 'outcomes',
      callback_url: receiver.url,
    });
    expect(sent.status).toBe(200);
    const id: string = sent.body.message_id;

    const failed = await recipientIn(key, id, FAILED, ['failed']);
    expect(failed.error).toEqual({ code: 'undeliverable', message: expect.any(String) });
    expect(failed.delivered_at).toBeNull();
    const expired = await recipientIn(key, id, EXPIRED, ['expired']);
    expect(expired.error).toEqual({ code: 'expired', message: expect.any(String) });
    const silent = await recipientIn(key, id, SILENT, ['delivered']);
    expect(silent.delivered_at).toEqual(expect.any(String));

    // The failed and expired webhooks fire at the same moment as the silent delivery would have.
    const finals = await waitFor('final webhooks', () => {
      const found = receiver.hits.filter((hit) =>
        ['message.failed', 'message.expired'].includes(hit.payload.event),
      );
      return found.length === 2 ? found : undefined;
    });
    const failedHit = finals.find((hit) => hit.payload.event === 'message.failed')!;
    expect(failedHit.payload).toMatchObject({ message_id: id, to: FAILED, error: failed.error });
    const expiredHit = finals.find((hit) => hit.payload.event === 'message.expired')!;
    expect(expiredHit.payload).toMatchObject({ message_id: id, to: EXPIRED });
    expect(hitsFor(receiver, id, SILENT)).toEqual([]);
    expect((await webhookAttempts(id)).filter((a) => a.to === SILENT)).toEqual([]);
    const stuck = (await api(key, 'GET', `/messages/${id}`)).body;
    expect(stuck.recipients.find((r: { to: string }) => r.to === STUCK).status).toBe('sent');
    // The batch is as far as its least advanced recipient, which never gets further.
    expect(stuck.status).toBe('sent');
    expect(hitsFor(receiver, id, STUCK).map((hit) => hit.payload.event)).toEqual(['message.sent']);
  });

  it('gives a send to an array one id, and each recipient its own statuses and webhooks', async () => {
    const key = await newKey();
    const sent = await send(key, {
      to: [DELIVERED, OTHER, FAILED],
      message: 'Batch',
      from: 'Acme',
      callback_url: receiver.url,
    });
    expect(sent.body).toEqual({
      success: true,
      message_id: expect.stringMatching(/^msg_[0-9a-f]+$/),
      credits_used: 3,
      credits_remaining: 99_997,
      status: 'queued',
      recipients: [DELIVERED, OTHER, FAILED].map((to) => ({ to, status: 'queued' })),
    });
    const id: string = sent.body.message_id;

    const done = await messageIn(key, id, ['delivered', 'failed', 'expired']);
    const sentAt = expect.stringMatching(/^\d{4}-.*Z$/);
    expect(done).toEqual({
      message_id: id,
      from: 'Acme',
      message: 'Batch',
      // Every recipient is final and one failed.
      status: 'failed',
      scheduled_at: null,
      recipients: [
        { to: DELIVERED, status: 'delivered', sent_at: sentAt, delivered_at: sentAt, error: null },
        { to: OTHER, status: 'delivered', sent_at: sentAt, delivered_at: sentAt, error: null },
        {
          to: FAILED,
          status: 'failed',
          sent_at: sentAt,
          delivered_at: null,
          error: { code: 'undeliverable', message: expect.any(String) },
        },
      ],
    });

    const hits = await waitFor('six webhooks', () =>
      hitsFor(receiver, id).length >= 6 ? hitsFor(receiver, id) : undefined,
    );
    expect(hits.map((hit) => `${hit.payload.to} ${hit.payload.event}`).sort()).toEqual(
      [
        `${DELIVERED} message.sent`,
        `${DELIVERED} message.delivered`,
        `${OTHER} message.sent`,
        `${OTHER} message.delivered`,
        `${FAILED} message.sent`,
        `${FAILED} message.failed`,
      ].sort(),
    );
    for (const hit of hits) {
      const recipient = done.recipients.find((r: { to: string }) => r.to === hit.payload.to);
      expect(hit.payload.sent_at).toBe(recipient.sent_at);
      expect(verifyWebhookSignature(hit.body, hit.headers['x-smsprovider-signature'], SECRET)).toBe(
        true,
      );
    }

    const rows: Json[] = await waitFor('two webhook attempts per admin row', async () => {
      const all: Json[] = (await admin('GET', `/messages?key=${key}`)).body;
      return all.every((row) => row.webhook_attempts.length === 2) ? all : undefined;
    });
    expect(rows.map((row) => [row.message_id, row.to, row.status, row.segments])).toEqual([
      [id, DELIVERED, 'delivered', 1],
      [id, OTHER, 'delivered', 1],
      [id, FAILED, 'failed', 1],
    ]);
    for (const row of rows) {
      for (const attempt of row.webhook_attempts) expect(attempt.to).toBe(row.to);
    }
  });

  it('posts to registered webhooks for their events only; registering again is idempotent', async () => {
    const key = await newKey();
    const first = await api(key, 'POST', '/webhooks', {
      url: receiver.url,
      events: ['message.delivered'],
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      success: true,
      webhook_id: expect.stringMatching(/^wh_/),
      url: receiver.url,
      events: ['message.delivered'],
    });
    const again = await api(key, 'POST', '/webhooks', {
      url: receiver.url,
      events: ['message.delivered', 'message.failed'],
    });
    expect(again.status).toBe(200);
    expect(again.body.webhook_id).toBe(first.body.webhook_id);
    const registered = (await admin('GET', '/webhooks/subscriptions')).body.filter(
      (s: { key: string }) => s.key === key,
    );
    expect(registered).toHaveLength(1);

    expect((await api(key, 'POST', '/webhooks', { url: 'not a url' })).body.error.code).toBe(
      'invalid_parameter',
    );
    expect(
      (await api(key, 'POST', '/webhooks', { url: receiver.url, events: ['message.read'] })).status,
    ).toBe(400);
    expect((await api(key, 'POST', '/webhooks', {})).body.error.code).toBe('missing_parameter');

    const sent = await send(key, { to: [DELIVERED, FAILED], message: 'registered' });
    await waitFor('delivered and failed webhooks', () =>
      receiver.hits.length >= 2 ? true : undefined,
    );
    const events = receiver.hits.map((hit) => `${hit.payload.to} ${hit.payload.event}`).sort();
    expect(events).toEqual([`${DELIVERED} message.delivered`, `${FAILED} message.failed`]);
    for (const hit of receiver.hits) expect(hit.payload.message_id).toBe(sent.body.message_id);
  });

  it('retries a receiver that fails, with the same signed body', async () => {
    await receiver.close();
    const seen = new Set<string>();
    // The first delivery of each event is refused with a 500, the retry accepted.
    receiver = await startReceiver((payload) => {
      if (seen.has(payload.event)) return 204;
      seen.add(payload.event);
      return 500;
    });
    const key = await newKey();
    const sent = await send(key, {
      to: DELIVERED,
      message: 'retry me',
      callback_url: receiver.url,
    });
    const id: string = sent.body.message_id;

    const attempts = await waitFor('two successful retries', async () => {
      const all = await webhookAttempts(id);
      return all.filter((a) => a.status_code === 204).length === 2 ? all : undefined;
    });
    for (const event of ['message.sent', 'message.delivered']) {
      const forEvent = attempts.filter((a) => a.event === event);
      expect(forEvent.map((a) => [a.attempt, a.status_code])).toEqual([
        [1, 500],
        [2, 204],
      ]);
      expect(forEvent[0].body).toBe(forEvent[1].body);
      expect(forEvent[0].delivery_id).toBe(forEvent[1].delivery_id);
      const hits = receiver.hits.filter((hit) => hit.payload.event === event);
      expect(hits).toHaveLength(2);
      for (const hit of hits) {
        expect(
          verifyWebhookSignature(hit.body, hit.headers['x-smsprovider-signature'], SECRET),
        ).toBe(true);
      }
    }
    const view = (await admin('GET', `/messages?key=${key}`)).body[0];
    expect(view.webhook_attempts).toHaveLength(4);
  });

  it('gives up on an unreachable receiver after the configured attempts', async () => {
    const key = await newKey();
    const closed = await startReceiver();
    const url = closed.url;
    await closed.close();
    const sent = await send(key, { to: STUCK, message: 'nobody home', callback_url: url });
    const attempts = await waitFor('three failed attempts', async () => {
      const all = await webhookAttempts(sent.body.message_id);
      return all.length === 3 ? all : undefined;
    });
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    for (const attempt of attempts) {
      expect(attempt).toMatchObject({ status_code: null, error: expect.stringMatching(/network/) });
    }
  });

  it('holds a scheduled message until scheduled_at', async () => {
    const key = await newKey();
    const scheduledAt = new Date(Date.now() + 700).toISOString();
    const sent = await send(key, {
      to: DELIVERED,
      message: 'later',
      scheduled_at: scheduledAt,
      callback_url: receiver.url,
    });
    expect(sent.body.status).toBe('queued');
    const id: string = sent.body.message_id;
    // Well past the 20 ms sent delay, yet still queued.
    const sentAt = Date.now();
    const early = await waitFor('150 ms to pass', async () =>
      Date.now() >= sentAt + 150 ? (await api(key, 'GET', `/messages/${id}`)).body : undefined,
    );
    expect(early).toMatchObject({ status: 'queued', sent_at: null, scheduled_at: scheduledAt });

    const done = await messageIn(key, id, ['delivered']);
    expect(Date.parse(done.sent_at)).toBeGreaterThanOrEqual(Date.parse(scheduledAt) - 5);
    const sentHook = await waitFor('sent webhook', () =>
      hitsFor(receiver, id).find((hit) => hit.payload.event === 'message.sent'),
    );
    expect(sentHook.payload.sent_at).toBe(done.sent_at);

    const past = await send(key, {
      to: DELIVERED,
      message: 'overdue',
      scheduled_at: '2020-01-01T00:00:00Z',
    });
    await messageIn(key, past.body.message_id, ['delivered']);
  });
});

describe('fault injection', () => {
  afterEach(async () => {
    await admin('POST', '/faults', {
      error_rate: 0,
      latency_ms: 0,
      force_429: false,
      rate_limit_rate: 0,
      fail_next: 0,
      scope: 'send',
    });
  });

  it('answers sends 500 server_error at error_rate 1, without spending credits', async () => {
    const key = await newKey('enterprise', 10);
    const faults = await admin('POST', '/faults', { error_rate: 1 });
    expect(faults.body).toMatchObject({ error_rate: 1, scope: 'send' });

    const failed = await send(key, { to: DELIVERED, message: 'x' });
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({
      success: false,
      error: { code: 'server_error', message: expect.any(String) },
    });
    expectRateLimitHeaders(failed, 50, Number(failed.headers.get('x-ratelimit-remaining')));
    const account = await api(key, 'GET', '/account');
    expect(account.status).toBe(200);
    expect(account.body.credits_remaining).toBe(10);
    expect((await admin('GET', `/messages?key=${key}`)).body).toEqual([]);

    await admin('POST', '/faults', { scope: 'all' });
    expect((await api(key, 'GET', '/account')).status).toBe(500);
    expect((await admin('GET', '/faults')).status).toBe(200);
  });

  it('fails exactly the next N sends with fail_next', async () => {
    const key = await newKey();
    await admin('POST', '/faults', { fail_next: 2 });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1)
      statuses.push((await send(key, { to: DELIVERED, message: 'n' })).status);
    expect(statuses).toEqual([500, 500, 200]);
  });

  it('answers 429 with the rate-limit headers when force_429 is on', async () => {
    const key = await newKey();
    await admin('POST', '/faults', { force_429: true });
    const forced = await api(key, 'GET', '/account');
    expect(forced.status).toBe(429);
    expect(forced.body.error.code).toBe('rate_limit_exceeded');
    expectRateLimitHeaders(forced, 50, 0);
    await admin('POST', '/faults', { force_429: false });
    expect((await api(key, 'GET', '/account')).status).toBe(200);
  });

  it('answers sends 429 within the limit at rate_limit_rate 1, and only sends while scoped to them', async () => {
    const key = await newKey();
    expect((await admin('POST', '/faults', { rate_limit_rate: 1 })).body).toMatchObject({
      rate_limit_rate: 1,
    });
    const refused = await send(key, { to: DELIVERED, message: 'r' });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('rate_limit_exceeded');
    expect(refused.headers.get('retry-after')).not.toBeNull();
    expect((await api(key, 'GET', '/account')).status).toBe(200);
    expect((await admin('POST', '/faults', { rate_limit_rate: 1.5 })).status).toBe(400);
  });

  it('adds latency_ms to provider calls', async () => {
    const key = await newKey();
    await admin('POST', '/faults', { latency_ms: 150 });
    const started = performance.now();
    expect((await api(key, 'GET', '/account')).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('validates the faults body', async () => {
    const response = await admin('POST', '/faults', { error_rate: 2 });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_parameter');
  });
});

describe('admin', () => {
  it('logs provider requests with high-resolution arrival times, filterable by since and key', async () => {
    const key = await newKey();
    const before = Date.now() - 5;
    await api(key, 'GET', '/account');
    await api(key, 'GET', '/messages/msg_nope');
    await admin('GET', '/messages');

    const log = (await admin('GET', `/requests?since=${before}&key=${key}`)).body;
    expect(log).toEqual([
      { at: expect.any(Number), method: 'GET', path: '/v1/account', key, status: 200 },
      { at: expect.any(Number), method: 'GET', path: '/v1/messages/msg_nope', key, status: 404 },
    ]);
    expect(log[0].at).toBeGreaterThanOrEqual(before);
    expect(log[1].at).toBeGreaterThan(log[0].at);
    expect((await admin('GET', `/requests?since=${log[1].at}&key=${key}`)).body).toHaveLength(1);
    expect(
      (await admin('GET', '/requests')).body.some((e: { path: string }) =>
        e.path.startsWith('/__admin'),
      ),
    ).toBe(false);
    expect((await admin('GET', '/requests?since=soon')).status).toBe(400);

    expect((await admin('DELETE', '/requests')).status).toBe(204);
    expect((await admin('GET', `/requests?key=${key}`)).body).toEqual([]);
  });

  it('validates account updates', async () => {
    expect((await admin('PUT', '/accounts/sk_x', { plan: 'gold' })).status).toBe(400);
    expect((await admin('PUT', '/accounts/sk_x', { credits: -1 })).status).toBe(400);
  });

  it('resets to the start-up state, and logs mask numbers and never show keys', async () => {
    const written: string[] = [];
    const spy = jest
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk: string | Uint8Array) => {
        written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
        return true;
      });
    const own = await startSandbox({
      port: 0,
      sentDelayMs: 5,
      deliveredDelayMs: 5,
      webhookRetryBaseMs: 5,
      webhookMaxAttempts: 2,
      apiKeys: 'sk_e2e_reset_secret:standard:100',
      logLevel: 'debug',
    });
    try {
      const key = 'sk_e2e_reset_secret';
      const ownCall = (method: string, path: string, body?: unknown) =>
        call(own.url, method, path, { key, body });
      const closed = await startReceiver();
      await closed.close();
      const sent = await ownCall('POST', '/messages', {
        to: DELIVERED,
        message: 'hi',
        callback_url: closed.url,
      });
      await call(own.adminUrl, 'PUT', '/accounts/sk_e2e_extra', { body: { credits: 1 } });
      await call(own.adminUrl, 'POST', '/faults', { body: { error_rate: 1 } });
      await waitFor('webhook attempts to run out', async () => {
        const all = (await call(own.adminUrl, 'GET', '/webhooks')).body;
        return all.length >= 4 ? all : undefined;
      });
      const output = written.join('');
      expect(output).toContain('+1415*****00');
      expect(output).not.toContain(DELIVERED);
      expect(output).not.toContain(key);

      expect((await call(own.adminUrl, 'POST', '/reset')).status).toBe(204);
      expect((await call(own.adminUrl, 'GET', '/messages')).body).toEqual([]);
      expect((await call(own.adminUrl, 'GET', '/webhooks')).body).toEqual([]);
      expect((await call(own.adminUrl, 'GET', '/requests')).body).toEqual([]);
      expect((await call(own.adminUrl, 'GET', '/faults')).body.error_rate).toBe(0);
      expect((await ownCall('GET', '/account')).body.credits_remaining).toBe(100);
      expect((await ownCall('GET', `/messages/${sent.body.message_id}`)).status).toBe(404);
      expect((await call(own.url, 'GET', '/account', { key: 'sk_e2e_extra' })).status).toBe(401);
    } finally {
      spy.mockRestore();
      await own.close();
    }
  });
});
