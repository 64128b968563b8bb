import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SweeperService } from '../apps/notification-service/src/sending/sweeper.service';
import {
  createTemplate,
  type Harness,
  numbers,
  startHarness,
  waitFor,
  waitForFinal,
} from './support/harness';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY_MINUTES = 24 * 60;

interface AcceptedMessage {
  id: string;
  to: string;
  status: string;
  category: string;
  scheduled_at: string | null;
  expires_at: string | null;
  error: { code: string; message: string } | null;
}

interface Callback {
  event: string;
  message_id: string;
  status: string;
  error: { code: string; message: string } | null;
}

/** A caller's callback endpoint on 127.0.0.1: answers 204 and keeps every body. */
class Receiver {
  readonly received: Callback[] = [];
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      this.received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Callback);
      res.statusCode = 204;
      res.end();
    });
  });
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/status`;
  }

  of(messageId: string): Callback[] {
    return this.received.filter((c) => c.message_id === messageId);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** What the provider took for `to`: every message the sandbox accepted for that number. */
async function sentTo(h: Harness, to: string): Promise<{ to: string }[]> {
  const messages: { to: string }[] = await h.sandboxAdmin('GET', '/messages');
  return messages.filter((m) => m.to === to);
}

async function send(
  h: Harness,
  template: string,
  to: string | string[],
  extra: Record<string, unknown> = {},
): Promise<{ id: string; messages: AcceptedMessage[] }> {
  const res = await h.api('POST', '/v1/notifications', { body: { template, to, ...extra } });
  expect(res.status).toBe(202);
  return res.body;
}

async function messageView(h: Harness, id: string): Promise<any> {
  const res = await h.api('GET', `/v1/messages/${id}`);
  expect(res.status).toBe(200);
  return res.body;
}

async function suppress(h: Harness, to: string, scope: 'marketing' | 'all'): Promise<void> {
  const res = await h.api('POST', '/v1/suppressions', {
    body: { to, scope, reason: 'Opted out', source: 'e2e' },
  });
  expect(res.status).toBe(201);
}

/** The minute of the day (0-1439) that `at` shows on the wall clock of `zone`. */
function wallMinute(at: number, zone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(at));
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return part('hour') * 60 + part('minute');
}

const mod = (n: number, m: number) => ((n % m) + m) % m;
const hhmm = (minute: number) =>
  `${String(Math.floor(mod(minute, DAY_MINUTES) / 60)).padStart(2, '0')}:${String(mod(minute, 60)).padStart(2, '0')}`;
const floorMinute = (at: number) => at - mod(at, MINUTE);

/**
 * A one-minute marketing window half a day from now in UTC (the zone of the US numbers used):
 * quiet hours that never apply while a test runs.
 */
function windowFarFromNow(): string {
  const utc = wallMinute(Date.now(), 'UTC');
  return `${hhmm(utc + 720)}-${hhmm(utc + 721)}`;
}

/**
 * Template categories, the suppression list, the per-number cap and validity on one stack.
 * Quiet hours are half a day away here, so that these tests mean the same at any hour.
 */
describe('Recipient protection: categories, suppression, cap, validity (e2e)', () => {
  let h: Harness;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = new Receiver();
    await receiver.start();
    h = await startHarness({ env: { QUIET_HOURS_MARKETING: windowFarFromNow() } });
    await createTemplate(h, 'code', 'Your code is {{code}}', { category: 'otp' });
    await createTemplate(h, 'receipt', 'Receipt {{n}}', { category: 'transactional' });
    await createTemplate(h, 'promo', 'Sale today only');
    const promo = await h.api('PUT', '/v1/templates/promo', {
      body: { body: 'Sale today only', category: 'marketing' },
    });
    expect(promo.status).toBe(200);
  });

  afterAll(async () => {
    await h?.close();
    await receiver?.close();
  });

  describe('categories', () => {
    it('are set on create, kept by a PUT without one, changed by a PUT with one', async () => {
      const created = await h.api('POST', '/v1/templates', {
        body: { key: 'spring_sale', body: 'Spring sale', category: 'marketing' },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ version: 1, category: 'marketing' });

      const kept = await h.api('PUT', '/v1/templates/spring_sale', {
        body: { body: 'Spring sale, 20% off' },
      });
      expect(kept.status).toBe(200);
      expect(kept.body).toMatchObject({ version: 2, category: 'marketing' });

      const changed = await h.api('PUT', '/v1/templates/spring_sale', {
        body: { body: 'Your code is {{code}}', category: 'otp' },
      });
      expect(changed.body).toMatchObject({ version: 3, category: 'otp' });
      expect((await h.api('GET', '/v1/templates/spring_sale')).body.category).toBe('otp');
      const v2 = await h.api('GET', '/v1/templates/spring_sale/versions/2');
      expect(v2.body.category).toBe('marketing');

      const plain = await h.api('POST', '/v1/templates', {
        body: { key: 'plain', body: 'Hello' },
      });
      expect(plain.body.category).toBe('transactional');
    });

    it('refuses an unknown category with a 4xx in the error envelope', async () => {
      const created = await h.api('POST', '/v1/templates', {
        body: { key: 'spam', body: 'Buy', category: 'spam' },
      });
      const updated = await h.api('PUT', '/v1/templates/promo', {
        body: { body: 'Buy', category: 'newsletter' },
      });
      for (const res of [created, updated]) {
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(res.body.error).toEqual(
          expect.objectContaining({ code: expect.any(String), message: expect.any(String) }),
        );
        expect(JSON.stringify(res.body.error)).toContain('category');
      }
      expect((await h.api('GET', '/v1/templates/spam')).status).toBe(404);
      expect((await h.api('GET', '/v1/templates/promo')).body.category).toBe('marketing');
    });

    it("show in the 202 and in both message views with the message's expires_at", async () => {
      const [to] = numbers(100, 1);
      const accepted = await send(h, 'promo', to);
      const [m] = accepted.messages;
      expect(m).toMatchObject({ status: 'pending', category: 'marketing', error: null });
      expect(m.expires_at).toEqual(expect.any(String));

      const notification = await h.api('GET', `/v1/notifications/${accepted.id}`);
      expect(notification.body.messages[0]).toMatchObject({
        id: m.id,
        category: 'marketing',
        expires_at: m.expires_at,
      });
      expect(await messageView(h, m.id)).toMatchObject({
        category: 'marketing',
        expires_at: m.expires_at,
      });
      // Frozen on the message: its template changing later does not change it.
      await waitForFinal(h, accepted.id);
      await h.api('PUT', '/v1/templates/promo', { body: { body: 'Sale', category: 'otp' } });
      expect((await messageView(h, m.id)).category).toBe('marketing');
      await h.api('PUT', '/v1/templates/promo', {
        body: { body: 'Sale today only', category: 'marketing' },
      });
    });
  });

  describe('suppression list', () => {
    /** Sends each template to `to` with a callback; returns the first message of each. */
    async function sendAll(to: string): Promise<Record<string, AcceptedMessage>> {
      const entries = await Promise.all(
        ['promo', 'receipt', 'code'].map(async (template) => {
          const res = await send(h, template, to, {
            variables: { n: '1', code: '4242' },
            callback_url: receiver.url,
          });
          return [template, res.messages[0]] as const;
        }),
      );
      return Object.fromEntries(entries);
    }

    async function expectStopped(m: AcceptedMessage): Promise<void> {
      expect(m).toMatchObject({
        status: 'failed',
        error: { code: 'recipient_suppressed', message: expect.any(String) },
      });
      const view = await messageView(h, m.id);
      expect(view).toMatchObject({
        status: 'failed',
        attempts: 0,
        provider_message_id: null,
        error: { code: 'recipient_suppressed' },
      });
      const [callback] = await waitFor(() => receiver.of(m.id).length > 0 && receiver.of(m.id), {
        what: `the status callback of suppressed message ${m.id}`,
      });
      expect(callback).toMatchObject({
        event: 'message.failed',
        status: 'failed',
        error: { code: 'recipient_suppressed' },
      });
      expect(receiver.of(m.id)).toHaveLength(1);
    }

    async function expectDelivered(m: AcceptedMessage): Promise<void> {
      expect(m.status).toBe('pending');
      expect(m.error).toBeNull();
      await waitFor(async () => (await messageView(h, m.id)).status === 'delivered', {
        what: `message ${m.id} to be delivered`,
      });
    }

    it('scope marketing stops marketing at intake, not transactional or otp', async () => {
      const [to] = numbers(200, 1);
      await suppress(h, to, 'marketing');
      const sent = await sendAll(to);
      await expectStopped(sent.promo);
      await expectDelivered(sent.receipt);
      await expectDelivered(sent.code);
      // Only the two that were not suppressed reached the provider.
      expect(await sentTo(h, to)).toHaveLength(2);
    });

    it('scope all stops marketing and transactional at intake, never otp', async () => {
      const [to] = numbers(201, 1);
      await suppress(h, to, 'all');
      const sent = await sendAll(to);
      await expectStopped(sent.promo);
      await expectStopped(sent.receipt);
      await expectDelivered(sent.code);
      expect(await sentTo(h, to)).toHaveLength(1);
    });

    it('an entry added while a message waits for its time stops it before it is sent', async () => {
      const [to] = numbers(202, 1);
      const scheduledAt = new Date(Date.now() + 3000).toISOString();
      const sent = await Promise.all(
        ['promo', 'receipt', 'code'].map((template) =>
          send(h, template, to, {
            variables: { n: '2', code: '4243' },
            scheduled_at: scheduledAt,
            callback_url: receiver.url,
          }),
        ),
      );
      expect(sent.map((n) => n.messages[0].status)).toEqual([
        'scheduled',
        'scheduled',
        'scheduled',
      ]);
      await suppress(h, to, 'all');

      const [promo, receipt, code] = await Promise.all(
        sent.map(async (n) => (await waitForFinal(h, n.id)).messages[0]),
      );
      for (const m of [promo, receipt]) {
        expect(m).toMatchObject({
          status: 'failed',
          attempts: 0,
          provider_message_id: null,
          error: { code: 'recipient_suppressed' },
        });
        expect(m.events.map((e: { type: string }) => e.type)).not.toContain('queued');
        await waitFor(() => receiver.of(m.id).some((c) => c.status === 'failed'), {
          what: `the failed callback of ${m.id}`,
        });
        expect(receiver.of(m.id).find((c) => c.status === 'failed')?.error?.code).toBe(
          'recipient_suppressed',
        );
      }
      expect(code.status).toBe('delivered');
      expect(await sentTo(h, to)).toHaveLength(1);
    });
  });

  describe('per-number cap', () => {
    it('lets 5 otp messages per hour reach a number and fails the rest at intake, never sent', async () => {
      const [to, other] = numbers(300, 2);
      const accepted: { id: string; messages: AcceptedMessage[] }[] = [];
      for (let i = 0; i < 7; i += 1) {
        accepted.push(await send(h, 'code', to, { variables: { code: String(1000 + i) } }));
      }
      const first = accepted.map((n) => n.messages[0]);
      expect(first.map((m) => m.status)).toEqual([
        'pending',
        'pending',
        'pending',
        'pending',
        'pending',
        'failed',
        'failed',
      ]);
      for (const m of first.slice(5)) {
        expect(m.error).toEqual({
          code: 'recipient_rate_limited',
          message: expect.stringContaining('5 otp message(s) in 1 h'),
        });
      }
      const elsewhere = await send(h, 'code', other, { variables: { code: '9999' } });
      expect(elsewhere.messages[0]).toMatchObject({ status: 'pending', error: null });

      const final = await Promise.all(
        [...accepted, elsewhere].map(async (n) => (await waitForFinal(h, n.id)).messages[0]),
      );
      expect(final.map((m) => m.status)).toEqual([
        'delivered',
        'delivered',
        'delivered',
        'delivered',
        'delivered',
        'failed',
        'failed',
        'delivered',
      ]);
      expect(final.slice(5, 7).map((m) => [m.attempts, m.error.code])).toEqual([
        [0, 'recipient_rate_limited'],
        [0, 'recipient_rate_limited'],
      ]);
      expect(await sentTo(h, to)).toHaveLength(5);
      expect(await sentTo(h, other)).toHaveLength(1);
    });

    it('counts a request retried concurrently with one Idempotency-Key once', async () => {
      const [to] = numbers(320, 1);
      const body = { template: 'code', to, variables: { code: '4242' } };
      const answers = await Promise.all(
        Array.from({ length: 10 }, () =>
          h.api('POST', '/v1/notifications', {
            body,
            headers: { 'Idempotency-Key': 'code-retry-4242' },
          }),
        ),
      );
      const stored = answers.filter((a) => a.status === 202);
      // Whoever waited on the key got the one answer: one message, due, not refused.
      expect(new Set(stored.map((a) => a.body.id)).size).toBe(1);
      expect(stored[0].body.messages[0]).toMatchObject({ status: 'pending', error: null });
      // Ten copies took one place under the cap: four more codes still go, the fifth does not.
      const more = [];
      for (let i = 0; i < 5; i += 1) {
        more.push(await send(h, 'code', to, { variables: { code: String(5000 + i) } }));
      }
      expect(more.map((n) => n.messages[0].status)).toEqual([
        'pending',
        'pending',
        'pending',
        'pending',
        'failed',
      ]);
    });
  });

  describe('validity', () => {
    it("gives an otp message 10 minutes from acceptance, or the request's earlier expires_at", async () => {
      const [a, b, c] = numbers(400, 3);
      const before = Date.now();
      const plain = (await send(h, 'code', a, { variables: { code: '1' } })).messages[0];
      const after = Date.now();
      const expiresAt = Date.parse(plain.expires_at ?? '');
      expect(expiresAt).toBeGreaterThanOrEqual(before + 10 * MINUTE);
      expect(expiresAt).toBeLessThanOrEqual(after + 10 * MINUTE);

      const soon = new Date(Date.now() + 2 * MINUTE).toISOString();
      const earlier = (await send(h, 'code', b, { variables: { code: '2' }, expires_at: soon }))
        .messages[0];
      expect(earlier.expires_at).toBe(soon);
      expect((await messageView(h, earlier.id)).expires_at).toBe(soon);

      const late = new Date(Date.now() + HOUR).toISOString();
      const sent = Date.now();
      const later = (await send(h, 'code', c, { variables: { code: '3' }, expires_at: late }))
        .messages[0];
      expect(Date.parse(later.expires_at ?? '') - sent).toBeLessThanOrEqual(10 * MINUTE + 1000);
      expect(Date.parse(later.expires_at ?? '') - sent).toBeGreaterThan(10 * MINUTE - 1000);
    });

    it('gives transactional 24 h and marketing 72 h', async () => {
      const [a, b] = numbers(410, 2);
      const start = Date.now();
      const receipt = (await send(h, 'receipt', a, { variables: { n: '1' } })).messages[0];
      const promo = (await send(h, 'promo', b)).messages[0];
      const end = Date.now();
      for (const [m, ms] of [
        [receipt, 24 * HOUR],
        [promo, 72 * HOUR],
      ] as const) {
        const at = Date.parse(m.expires_at ?? '');
        expect(at).toBeGreaterThanOrEqual(start + ms);
        expect(at).toBeLessThanOrEqual(end + ms);
      }
    });

    it('ends an otp message not sent by its expiry as expired (validity_elapsed), never sent', async () => {
      const [to] = numbers(420, 1);
      await h.api('POST', '/v1/queue/pause');
      try {
        const accepted = await send(h, 'code', to, {
          variables: { code: '5' },
          expires_at: new Date(Date.now() + 800).toISOString(),
          callback_url: receiver.url,
        });
        const final = await waitForFinal(h, accepted.id);
        expect(final.messages[0]).toMatchObject({
          status: 'expired',
          attempts: 0,
          error: { code: 'validity_elapsed' },
        });
      } finally {
        await h.api('POST', '/v1/queue/resume');
      }
      expect(await sentTo(h, to)).toHaveLength(0);
    });
  });
});

describe('Recipient protection: the cap across two instances (e2e)', () => {
  let first: Harness;
  let second: Harness;

  beforeAll(async () => {
    first = await startHarness();
    second = await startHarness({ shareWith: first });
    await createTemplate(first, 'code', 'Your code is {{code}}', { category: 'otp' });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('lets exactly 5 of 40 concurrent otp requests for one number through', async () => {
    const [to] = numbers(600, 1);
    const attempts = 40;
    const accepted = await Promise.all(
      Array.from({ length: attempts }, (_, i) =>
        send(i % 2 === 0 ? first : second, 'code', to, { variables: { code: String(i) } }),
      ),
    );
    const final = await Promise.all(
      accepted.map(async (n) => (await waitForFinal(first, n.id)).messages[0]),
    );
    const passed = final.filter((m) => m.status !== 'failed');
    const refused = final.filter((m) => m.status === 'failed');
    process.stdout.write(
      `recipient cap over two instances: ${passed.length}/${attempts} passed, ${refused.length} refused\n`,
    );
    expect(passed).toHaveLength(5);
    expect(passed.every((m) => m.status === 'delivered')).toBe(true);
    expect(
      refused.every((m) => m.error.code === 'recipient_rate_limited' && m.attempts === 0),
    ).toBe(true);
    expect(await sentTo(first, to)).toHaveLength(5);
  });
});

/**
 * Quiet hours around the present: the window is built from the current time, in UTC and in
 * Berlin, so that now is inside it for a recipient in either zone but not in Tokyo's.
 */
describe('Recipient protection: quiet hours (e2e)', () => {
  let h: Harness;
  /** An API-only instance on the same stack whose quiet hours are elsewhere in the day. */
  let noWindow: Harness;
  let endMinute: number;

  beforeAll(async () => {
    const now = Date.now();
    const utc = wallMinute(now, 'UTC');
    const berlinAhead = mod(wallMinute(now, 'Europe/Berlin') - utc, DAY_MINUTES);
    const startMinute = utc - 30;
    endMinute = mod(utc + berlinAhead + 30, DAY_MINUTES);
    h = await startHarness({
      env: { QUIET_HOURS_MARKETING: `${hhmm(startMinute)}-${hhmm(endMinute)}` },
    });
    noWindow = await startHarness({
      shareWith: h,
      env: { APP_ROLE: 'api', QUIET_HOURS_MARKETING: windowFarFromNow() },
    });
    await createTemplate(h, 'promo', 'Sale today only', { category: 'marketing' });
    await createTemplate(h, 'receipt', 'Receipt {{n}}', { category: 'transactional' });
  });
  afterAll(async () => {
    await noWindow?.close();
    await h?.close();
  });

  /** The next instant, from now, at which the UTC wall clock reads the window's end. */
  function utcEnd(): number {
    const now = floorMinute(Date.now());
    return now + mod(endMinute - wallMinute(now, 'UTC'), DAY_MINUTES) * MINUTE;
  }

  async function events(id: string): Promise<{ type: string; details: any }[]> {
    return (await messageView(h, id)).events;
  }

  it('defers a marketing message due now to the end of the window, on the timeline', async () => {
    const [to] = numbers(700, 1);
    const accepted = await send(h, 'promo', to, { timezone: 'UTC' });
    const until = new Date(utcEnd()).toISOString();
    const [m] = accepted.messages;
    expect(m).toMatchObject({
      status: 'scheduled',
      scheduled_at: until,
      expires_at: new Date(Date.parse(until) + 72 * HOUR).toISOString(),
      error: null,
    });
    const view = await messageView(h, m.id);
    expect(view).toMatchObject({ status: 'scheduled', expires_at: m.expires_at });
    expect(view.events.find((e: { type: string }) => e.type === 'deferred')).toMatchObject({
      status: 'scheduled',
      details: { reason: 'quiet_hours', until, timezone: 'UTC' },
    });
  });

  it('does not defer a transactional message in the same window', async () => {
    const [to] = numbers(701, 1);
    const accepted = await send(h, 'receipt', to, { timezone: 'UTC', variables: { n: '1' } });
    expect(accepted.messages[0]).toMatchObject({ status: 'pending', scheduled_at: null });
    expect((await waitForFinal(h, accepted.id)).messages[0].status).toBe('delivered');
  });

  it('defers a marketing message scheduled into the window to its end', async () => {
    const [to] = numbers(702, 1);
    const accepted = await send(h, 'promo', to, {
      timezone: 'UTC',
      scheduled_at: new Date(Date.now() + 10 * MINUTE).toISOString(),
    });
    const until = new Date(utcEnd()).toISOString();
    expect(accepted.messages[0]).toMatchObject({ status: 'scheduled', scheduled_at: until });
    const deferred = (await events(accepted.messages[0].id)).find((e) => e.type === 'deferred');
    expect(deferred?.details).toEqual({ reason: 'quiet_hours', until, timezone: 'UTC' });
  });

  it('refuses an unknown time zone with 400 invalid_timezone', async () => {
    const [to] = numbers(703, 1);
    const res = await h.api('POST', '/v1/notifications', {
      body: { template: 'promo', to, timezone: 'Mars/Olympus' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'invalid_timezone',
      message: expect.stringContaining('Mars/Olympus'),
    });
    expect(await h.sql(`SELECT id FROM messages WHERE recipient = $1`, [to])).toEqual([]);
  });

  it("reads the window on the number's country's clock when the request names no zone", async () => {
    const germany = '+4915112345678';
    const japan = '+819012345678';
    const us = numbers(704, 1)[0];
    const before = Date.now();
    const [de, jp, usa, deInTokyo] = await Promise.all([
      send(h, 'promo', germany),
      send(h, 'promo', japan),
      send(h, 'promo', us),
      send(h, 'promo', '+4915112345679', { timezone: 'Asia/Tokyo' }),
    ]);

    // Berlin's wall clock is inside the window: deferred to its end there.
    const berlin = de.messages[0];
    expect(berlin.status).toBe('scheduled');
    const until = Date.parse(berlin.scheduled_at ?? '');
    expect(wallMinute(until, 'Europe/Berlin')).toBe(endMinute);
    expect(until).toBeGreaterThan(before);
    expect(until).toBeLessThanOrEqual(before + 31 * MINUTE);
    const deferred = (await events(berlin.id)).find((e) => e.type === 'deferred');
    expect(deferred?.details).toEqual({
      reason: 'quiet_hours',
      until: berlin.scheduled_at,
      timezone: 'Europe/Berlin',
    });

    // Tokyo's clock is hours past the window: no deferral, for the country or the request's zone.
    expect(jp.messages[0]).toMatchObject({ status: 'pending', scheduled_at: null });
    expect(deInTokyo.messages[0]).toMatchObject({ status: 'pending', scheduled_at: null });

    // A US number has several zones: QUIET_HOURS_DEFAULT_TIMEZONE (UTC here) decides.
    expect(usa.messages[0]).toMatchObject({
      status: 'scheduled',
      scheduled_at: new Date(utcEnd()).toISOString(),
    });
    const usDeferred = (await events(usa.messages[0].id)).find((e) => e.type === 'deferred');
    expect(usDeferred?.details.timezone).toBe('UTC');
  });

  it('never hands a marketing message to the provider inside its window, whoever accepted it', async () => {
    const [deferredAtIntake, dueNow] = numbers(710, 2);
    const held = (await send(h, 'promo', deferredAtIntake, { timezone: 'UTC' })).messages[0];
    // Accepted by an instance whose window is elsewhere: due now, so only the send path holds it.
    const due = (await send(noWindow, 'promo', dueNow)).messages[0];
    expect(due).toMatchObject({ status: 'pending', scheduled_at: null });

    const deferred = await waitFor(
      async () => (await events(due.id)).find((e) => e.type === 'deferred'),
      { what: 'the send path to defer the message out of quiet hours' },
    );
    expect(deferred).toMatchObject({
      details: { reason: 'quiet_hours', until: new Date(utcEnd()).toISOString(), timezone: 'UTC' },
    });

    const sweeper = h.app.get(SweeperService);
    for (let i = 0; i < 3; i += 1) await sweeper.sweep();

    for (const m of [held, due]) {
      const view = await messageView(h, m.id);
      expect(['scheduled', 'pending']).toContain(view.status);
      expect(view).toMatchObject({ attempts: 0, provider_message_id: null, queued_at: null });
    }
    expect(await sentTo(h, deferredAtIntake)).toHaveLength(0);
    expect(await sentTo(h, dueNow)).toHaveLength(0);
  });
});
describe('Recipient protection: a cap set to 0 (e2e)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ env: { RECIPIENT_CAP_OTP: '0' } });
    await createTemplate(h, 'code', 'Your code is {{code}}', { category: 'otp' });
  });
  afterAll(() => h?.close());

  it('caps nothing', async () => {
    const [to] = numbers(500, 1);
    const accepted: { id: string; messages: AcceptedMessage[] }[] = [];
    for (let i = 0; i < 7; i += 1) {
      accepted.push(await send(h, 'code', to, { variables: { code: String(i) } }));
    }
    expect(accepted.every((n) => n.messages[0].status === 'pending')).toBe(true);
    const final = await Promise.all(accepted.map((n) => waitForFinal(h, n.id)));
    expect(final.map((n) => n.messages[0].status)).toEqual(Array(7).fill('delivered'));
    expect(await sentTo(h, to)).toHaveLength(7);
  });
});
