import { createHmac } from 'node:crypto';
import {
  CALLBACK_SECRET_PREFIX,
  generateCallbackSecret,
  generateTestCallback,
  signCallback,
  verifyCallback,
} from './callback-signature';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const NOW = new Date('2026-03-01T12:00:00Z');
const BODY = JSON.stringify({ event: 'message.delivered', message_id: 'm-1', status: 'delivered' });

function signed(overrides: { body?: string; timestamp?: Date | number; secret?: string } = {}) {
  return signCallback({
    id: 'cb_1',
    timestamp: overrides.timestamp ?? NOW,
    body: overrides.body ?? BODY,
    secret: overrides.secret ?? SECRET,
  });
}

describe('callback signatures', () => {
  it('signs in the Standard Webhooks format', () => {
    const headers = signed();
    expect(headers['webhook-id']).toBe('cb_1');
    expect(headers['webhook-timestamp']).toBe(String(NOW.getTime() / 1000));
    const key = Buffer.from(SECRET.slice(CALLBACK_SECRET_PREFIX.length), 'base64');
    const expected = createHmac('sha256', key)
      .update(`cb_1.${NOW.getTime() / 1000}.${BODY}`)
      .digest('base64');
    expect(headers['webhook-signature']).toBe(`v1,${expected}`);
  });

  it('verifies a good signature, from a string or a Buffer body', () => {
    const headers = signed();
    expect(verifyCallback({ body: BODY, headers, secret: SECRET, now: NOW })).toBe(true);
    expect(verifyCallback({ body: Buffer.from(BODY), headers, secret: SECRET, now: NOW })).toBe(
      true,
    );
  });

  it('accepts Fetch Headers and header names in any case', () => {
    const headers = signed();
    expect(
      verifyCallback({
        body: BODY,
        headers: new Headers({ ...headers }),
        secret: SECRET,
        now: NOW,
      }),
    ).toBe(true);
    const upper = {
      'Webhook-Id': headers['webhook-id'],
      'WEBHOOK-TIMESTAMP': headers['webhook-timestamp'],
      'Webhook-Signature': headers['webhook-signature'],
    };
    expect(verifyCallback({ body: BODY, headers: upper, secret: SECRET, now: NOW })).toBe(true);
  });

  it('rejects a tampered body', () => {
    const headers = signed();
    const tampered = BODY.replace('delivered', 'failed');
    expect(verifyCallback({ body: tampered, headers, secret: SECRET, now: NOW })).toBe(false);
    expect(verifyCallback({ body: `${BODY} `, headers, secret: SECRET, now: NOW })).toBe(false);
  });

  it('rejects a tampered id or timestamp', () => {
    const headers = signed();
    expect(
      verifyCallback({
        body: BODY,
        headers: { ...headers, 'webhook-id': 'cb_2' },
        secret: SECRET,
        now: NOW,
      }),
    ).toBe(false);
    const shifted = String(Number(headers['webhook-timestamp']) + 1);
    expect(
      verifyCallback({
        body: BODY,
        headers: { ...headers, 'webhook-timestamp': shifted },
        secret: SECRET,
        now: NOW,
      }),
    ).toBe(false);
  });

  it('rejects the wrong secret', () => {
    const headers = signed();
    expect(
      verifyCallback({ body: BODY, headers, secret: generateCallbackSecret(), now: NOW }),
    ).toBe(false);
  });

  it('rejects a stale timestamp and accepts one inside the tolerance', () => {
    const headers = signed({ timestamp: new Date(NOW.getTime() - 301_000) });
    expect(verifyCallback({ body: BODY, headers, secret: SECRET, now: NOW })).toBe(false);
    expect(
      verifyCallback({ body: BODY, headers, secret: SECRET, now: NOW, toleranceSeconds: 600 }),
    ).toBe(true);
    const recent = signed({ timestamp: new Date(NOW.getTime() - 299_000) });
    expect(verifyCallback({ body: BODY, headers: recent, secret: SECRET, now: NOW })).toBe(true);
  });

  it('rejects a timestamp from the future beyond the tolerance', () => {
    const headers = signed({ timestamp: new Date(NOW.getTime() + 301_000) });
    expect(verifyCallback({ body: BODY, headers, secret: SECRET, now: NOW })).toBe(false);
    const soon = signed({ timestamp: new Date(NOW.getTime() + 30_000) });
    expect(verifyCallback({ body: BODY, headers: soon, secret: SECRET, now: NOW })).toBe(true);
  });

  it('rejects missing or repeated headers', () => {
    const headers = signed();
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const) {
      const { [name]: _dropped, ...rest } = headers;
      expect(verifyCallback({ body: BODY, headers: rest, secret: SECRET, now: NOW })).toBe(false);
    }
    const repeated = { ...headers, 'webhook-signature': [headers['webhook-signature'], 'v1,AAAA'] };
    expect(verifyCallback({ body: BODY, headers: repeated, secret: SECRET, now: NOW })).toBe(false);
    expect(verifyCallback({ body: BODY, headers: {}, secret: SECRET, now: NOW })).toBe(false);
  });

  it('accepts several signatures when one of them is valid (secret rotation)', () => {
    const headers = signed();
    const other = signed({ secret: generateCallbackSecret() })['webhook-signature'];
    const both = {
      ...headers,
      'webhook-signature': `${other} v2,abc ${headers['webhook-signature']}`,
    };
    expect(verifyCallback({ body: BODY, headers: both, secret: SECRET, now: NOW })).toBe(true);
    const none = { ...headers, 'webhook-signature': `${other} v1,${'A'.repeat(44)}` };
    expect(verifyCallback({ body: BODY, headers: none, secret: SECRET, now: NOW })).toBe(false);
  });

  it('returns false on garbage instead of throwing', () => {
    const headers = signed();
    const garbage: unknown[] = [
      { ...headers, 'webhook-signature': 'v1,' },
      { ...headers, 'webhook-signature': 'v1,!!!not-base64!!!' },
      { ...headers, 'webhook-signature': 'v1,AAAA' },
      { ...headers, 'webhook-signature': headers['webhook-signature'].replace('v1,', 'v2,') },
      { ...headers, 'webhook-signature': headers['webhook-signature'].replace('v1,', '') },
      {
        ...headers,
        'webhook-signature': `${'v1,AAAA '.repeat(20)}${headers['webhook-signature']}`,
      },
      { ...headers, 'webhook-timestamp': 'yesterday' },
      { ...headers, 'webhook-timestamp': '-5' },
      { ...headers, 'webhook-timestamp': '1e9' },
      { ...headers, 'webhook-id': 42 },
      null,
      undefined,
      'webhook-id: x',
    ];
    for (const value of garbage) {
      expect(
        verifyCallback({ body: BODY, headers: value as never, secret: SECRET, now: NOW }),
      ).toBe(false);
    }
    expect(verifyCallback({ body: BODY, headers, secret: 'whsec_', now: NOW })).toBe(false);
    expect(verifyCallback({ body: BODY, headers, secret: 'whsec_%%%', now: NOW })).toBe(false);
    expect(verifyCallback({ body: BODY, headers, secret: undefined as never, now: NOW })).toBe(
      false,
    );
    expect(verifyCallback({ body: null as never, headers, secret: SECRET, now: NOW })).toBe(false);
    expect(verifyCallback({ body: { a: 1 } as never, headers, secret: SECRET, now: NOW })).toBe(
      false,
    );
    expect(verifyCallback({ body: BODY, headers, secret: SECRET, now: new Date(Number.NaN) })).toBe(
      false,
    );
    expect(
      verifyCallback({ body: BODY, headers, secret: SECRET, now: NOW, toleranceSeconds: -1 }),
    ).toBe(false);
  });

  it('generates 32-byte secrets in the whsec_ format, never the same twice', () => {
    const a = generateCallbackSecret();
    const b = generateCallbackSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32);
    expect(a).not.toBe(b);
  });

  it('refuses to sign with a malformed secret or timestamp', () => {
    expect(() => signCallback({ id: 'x', timestamp: NOW, body: BODY, secret: 'whsec_' })).toThrow(
      TypeError,
    );
    expect(() => signCallback({ id: '', timestamp: NOW, body: BODY, secret: SECRET })).toThrow(
      TypeError,
    );
    expect(() => signCallback({ id: 'x', timestamp: 1.5, body: BODY, secret: SECRET })).toThrow(
      RangeError,
    );
  });

  it('builds test callbacks that verify', () => {
    const secret = generateCallbackSecret();
    const { body, headers } = generateTestCallback({ event: 'message.sent' }, secret);
    expect(headers['content-type']).toBe('application/json');
    expect(verifyCallback({ body, headers, secret })).toBe(true);
  });
});
