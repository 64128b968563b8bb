import { request as httpRequest } from 'node:http';
import { signWebhookPayload } from '@app/sms-provider';
import { ADMIN_KEY, createTemplate, type Harness, startHarness } from './support/harness';

const SECRET = 'whsec_sandbox';
const WEBHOOK = '/v1/webhooks/sms-provider';

/** One request as written, bytes and all: fetch would re-encode what these tests send. */
function raw(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: any }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(baseUrl);
    const req = httpRequest({ host: hostname, port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON: the assertion below shows what came instead
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const AUTH = { authorization: `Bearer ${ADMIN_KEY}` };
const JSON_AUTH = { ...AUTH, 'content-type': 'application/json' };

function expectEnvelope(res: { status: number; body: any }, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  expect(res.body).toEqual({
    success: false,
    error: expect.objectContaining({ code, message: expect.any(String) }),
  });
}

describe('Input rules for every route (e2e)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
    await createTemplate(h, 'rules', 'Hi {{name}}');
  });
  afterAll(() => h?.close());

  async function counts() {
    const [row] = await h.sql(
      `SELECT (SELECT count(*) FROM notifications)::int AS notifications,
              (SELECT count(*) FROM templates)::int AS templates,
              (SELECT count(*) FROM api_keys)::int AS keys`,
    );
    return row;
  }

  describe('NUL and control characters, before PostgreSQL sees them', () => {
    const send = (extra: Record<string, unknown>) =>
      JSON.stringify({ template: 'rules', to: '+14155550100', variables: { name: 'A' }, ...extra });

    it.each([
      ['a template key', 'POST', '/v1/templates', JSON.stringify({ key: 'a\u0000b', body: 'x' })],
      ['a template body', 'POST', '/v1/templates', JSON.stringify({ key: 'nul', body: 'x\u0000' })],
      [
        'a description',
        'POST',
        '/v1/templates',
        JSON.stringify({ key: 'nul2', body: 'x', description: 'd\u0000' }),
      ],
      ['a reference', 'POST', '/v1/notifications', send({ reference: 'r\u0000' })],
      [
        'a callback_url',
        'POST',
        '/v1/notifications',
        send({ callback_url: 'https://example.com/\u0000' }),
      ],
      ['a variable value', 'POST', '/v1/notifications', send({ variables: { name: 'A\u0000' } })],
      ['a variable name', 'POST', '/v1/notifications', send({ variables: { 'na\u0000me': 'A' } })],
      ['an escape sequence', 'POST', '/v1/notifications', send({ reference: '\u001b[2J' })],
      [
        'an api-key name',
        'POST',
        '/v1/api-keys',
        JSON.stringify({ name: 'k\u0000', team: 'alpha', scopes: ['notifications:send'] }),
      ],
    ])(
      'refuses %s with 400 invalid_characters, storing nothing',
      async (_what, method, path, b) => {
        const before = await counts();
        expectEnvelope(await raw(h.url, method, path, JSON_AUTH, b), 400, 'invalid_characters');
        expect(await counts()).toEqual(before);
      },
    );

    it.each([
      ['a path parameter', '/v1/templates/a%00b'],
      ['a notification id', '/v1/notifications/00000000-0000-4000-8000-00000000000%00'],
      ['a ?reference= query', '/v1/notifications?reference=a%00b'],
      ['a ?template= query', '/v1/reports/delivery?template=a%00'],
      ['a line feed in a query', '/v1/notifications?reference=a%0Ab'],
    ])('refuses NUL in %s with 400 invalid_characters', async (_what, path) => {
      expectEnvelope(await raw(h.url, 'GET', path, AUTH), 400, 'invalid_characters');
    });

    it('keeps line breaks and tabs in a template body', async () => {
      const res = await h.api('POST', '/v1/templates', {
        body: { key: 'multiline', body: 'Line 1\nLine 2\tTabbed {{name}}' },
      });
      expect(res.status).toBe(201);
    });
  });

  describe('lone surrogates are refused, never replaced', () => {
    it('refuses one in a body and keeps a proper pair', async () => {
      const lone = await raw(
        h.url,
        'POST',
        '/v1/templates',
        JSON_AUTH,
        '{"key":"lone","body":"Party \\ud83c"}',
      );
      expectEnvelope(lone, 400, 'invalid_characters');
      const pair = await raw(
        h.url,
        'POST',
        '/v1/templates',
        JSON_AUTH,
        '{"key":"pair","body":"Party \\ud83c\\udf89"}',
      );
      expect(pair.status).toBe(201);
      expect(pair.body.body).toBe('Party 🎉');
    });

    it('refuses a query escape that is not UTF-8', async () => {
      expectEnvelope(
        await raw(h.url, 'GET', '/v1/notifications?reference=%ED%A0%80', AUTH),
        400,
        'invalid_url',
      );
    });
  });

  describe('JSON depth, before anything recurses', () => {
    const deep = (n: number) =>
      `{"key":"deep","body":"x","description":${'['.repeat(n)}${']'.repeat(n)}}`;

    it('refuses 33 levels (and 150,000) with 400 json_too_deep on an authenticated route', async () => {
      for (const n of [33, 150_000]) {
        expectEnvelope(
          await raw(h.url, 'POST', '/v1/templates', JSON_AUTH, deep(n)),
          400,
          'json_too_deep',
        );
      }
    });

    it('answers a deep unsigned webhook 401 (413 when over the webhook limit) without parsing it, and the service stays quick', async () => {
      const send = (body: string) =>
        raw(
          h.url,
          'POST',
          WEBHOOK,
          { 'content-type': 'application/json', 'x-smsprovider-signature': 'f'.repeat(64) },
          body,
        );
      const started = Date.now();
      // 300 KB: over the 64 KiB a provider event may have, refused before it is read.
      const large = '['.repeat(150_000) + ']'.repeat(150_000);
      // 60 KB: read for its HMAC, never parsed (the re-serialized check takes bodies up to 16 KiB).
      const deep = '['.repeat(30_000) + ']'.repeat(30_000);
      const results = await Promise.all([
        ...Array.from({ length: 15 }, () => send(large)),
        ...Array.from({ length: 15 }, () => send(deep)),
      ]);
      for (const res of results.slice(0, 15)) expectEnvelope(res, 413, 'payload_too_large');
      for (const res of results.slice(15)) expectEnvelope(res, 401, 'invalid_signature');
      const health = await h.api('GET', '/health', { key: null });
      expect(health.status).toBe(200);
      // 30 × 300 KB: the parse used to cost 25 ms each and pushed /health to 2.8 s.
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    const signedWebhook = (body: string) =>
      raw(
        h.url,
        'POST',
        WEBHOOK,
        {
          'content-type': 'application/json',
          'x-smsprovider-signature': signWebhookPayload(body, SECRET),
        },
        body,
      );

    it('refuses a signed webhook with NUL in it: 400, not a database error', async () => {
      const body = JSON.stringify({ message_id: 'msg_\u0000', status: 'delivered' });
      const res = await signedWebhook(body);
      expectEnvelope(res, 400, 'invalid_characters');
    });

    it('answers a signed webhook with an impossible timestamp without a 500', async () => {
      const body = JSON.stringify({
        message_id: 'msg_unknown_time',
        status: 'delivered',
        timestamp: -8.64e12,
        delivered_at: -8.64e12,
      });
      const res = await signedWebhook(body);
      expect(res.status).toBe(200);
    });
  });

  describe('times outside years 1970–9999', () => {
    it.each(['0001-01-01T00:00:00Z', '0099-06-01T00:00:00Z', '1969-12-31T23:59:59Z'])(
      'refuses scheduled_at %s with 400',
      async (at) => {
        const res = await h.api('POST', '/v1/notifications', {
          body: {
            template: 'rules',
            to: '+14155550100',
            variables: { name: 'A' },
            scheduled_at: at,
          },
        });
        expectEnvelope(res, 400, 'validation_failed');
      },
    );

    it('refuses a list cursor holding an out-of-range time with 422 invalid_cursor', async () => {
      for (const at of ['0000-01-01T00:00:00.000Z', '+275760-09-13T00:00:00.000Z']) {
        const cursor = Buffer.from(
          JSON.stringify([at, '00000000-0000-4000-8000-000000000000']),
        ).toString('base64url');
        expectEnvelope(
          await h.api('GET', `/v1/notifications?cursor=${cursor}`),
          422,
          'invalid_cursor',
        );
      }
    });
  });

  describe('scheduled_at in the past and too far ahead', () => {
    const schedule = (at: Date) =>
      h.api('POST', '/v1/notifications', {
        body: {
          template: 'rules',
          to: '+14155550100',
          variables: { name: 'A' },
          scheduled_at: at.toISOString(),
        },
      });

    it('refuses a time years in the past with 422 scheduled_at_in_past, storing nothing', async () => {
      const before = await counts();
      expectEnvelope(await schedule(new Date('2020-01-01T00:00:00Z')), 422, 'scheduled_at_in_past');
      expectEnvelope(
        await schedule(new Date(Date.now() - 6 * 60_000)),
        422,
        'scheduled_at_in_past',
      );
      expect(await counts()).toEqual(before);
    });

    it('sends now for a time within the 5-minute tolerance', async () => {
      const res = await schedule(new Date(Date.now() - 4 * 60_000));
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ status: 'accepted', scheduled_at: null });
    });

    it('accepts 34 days ahead and refuses 36 with 422 scheduled_at_too_far', async () => {
      const day = 86_400_000;
      expect((await schedule(new Date(Date.now() + 34 * day))).status).toBe(202);
      expectEnvelope(await schedule(new Date(Date.now() + 36 * day)), 422, 'scheduled_at_too_far');
    });
  });

  describe('query parameters, content types and the framework’s own errors', () => {
    it('refuses a duplicated query parameter with 400', async () => {
      expectEnvelope(
        await h.api('GET', '/v1/notifications?reference=a&reference=b'),
        400,
        'duplicate_query_parameter',
      );
    });

    it.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'])(
      'refuses a %s body with 415, storing nothing',
      async (type) => {
        const before = await counts();
        const res = await raw(
          h.url,
          'POST',
          '/v1/templates',
          { ...AUTH, 'content-type': type },
          'key=x&body=y',
        );
        expectEnvelope(res, 415, 'unsupported_media_type');
        expect(await counts()).toEqual(before);
      },
    );

    it('refuses a body without a content type with 415', async () => {
      const res = await raw(h.url, 'POST', '/v1/templates', AUTH, '{"key":"untyped","body":"x"}');
      expectEnvelope(res, 415, 'unsupported_media_type');
    });

    it('answers invalid JSON with 400 invalid_json', async () => {
      expectEnvelope(
        await raw(h.url, 'POST', '/v1/templates', JSON_AUTH, '{"key": '),
        400,
        'invalid_json',
      );
    });

    it('puts %FF in a path, a 5,000-character id and oversized headers in the envelope', async () => {
      expectEnvelope(await raw(h.url, 'GET', '/v1/templates/%FF', AUTH), 400, 'invalid_url');
      expectEnvelope(
        await raw(h.url, 'GET', `/v1/notifications/${'a'.repeat(5000)}`, AUTH),
        414,
        'uri_too_long',
      );
      expectEnvelope(
        await raw(h.url, 'GET', `/v1/templates?x=${'a'.repeat(20_000)}`, AUTH),
        431,
        'headers_too_large',
      );
      expect((await h.api('GET', '/health', { key: null })).status).toBe(200);
    });
  });
});
