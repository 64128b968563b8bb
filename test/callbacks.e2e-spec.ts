import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { verifyCallback } from '../apps/notification-service/src/callbacks/callback-signature';
import {
  CALLBACK_QUEUE,
  type CallbackJobData,
} from '../apps/notification-service/src/callbacks/callbacks.constants';
import {
  createTemplate,
  type Harness,
  startHarness,
  waitFor,
  waitForFinal,
} from './support/harness';

const MAX_ATTEMPTS = 3;
const TEAM = 'shipping';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  answered: number;
}

/**
 * A caller's endpoint on 127.0.0.1. The first path segment picks its behaviour: `ok` answers 204,
 * `down` always 500, `flaky` 500 to the first request it ever gets and 200 after that, `outage`
 * 500 until `restore(path)` and 204 after.
 */
class Receiver {
  readonly requests: Received[] = [];
  private readonly server: Server;
  private readonly seen = new Set<string>();
  private readonly restored = new Set<string>();
  url = '';

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const path = req.url ?? '/';
        const mode = path.split('/')[1];
        let status = 204;
        if (mode === 'down') status = 500;
        if (mode === 'flaky') status = this.seen.has(path) ? 200 : 500;
        if (mode === 'outage') status = this.restored.has(path) ? 204 : 500;
        this.seen.add(path);
        this.requests.push({
          path,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          answered: status,
        });
        res.statusCode = status;
        res.end(status === 500 ? 'boom' : undefined);
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  restore(path: string): void {
    this.restored.add(path);
  }

  at(path: string): Received[] {
    return this.requests.filter((r) => r.path === path);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The recipe of docs/callbacks.md, written out by hand as a caller would. */
function verifyByRecipe(rawBody: string, headers: IncomingHttpHeaders, secret: string): boolean {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string')
    return false;
  if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300)
    return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${rawBody}`).digest();
  return signatures.split(' ').some((entry) => {
    const [version, signature = ''] = entry.split(',');
    const given = Buffer.from(signature, 'base64');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

describe('Status callbacks (e2e)', () => {
  let h: Harness;
  let receiver: Receiver;
  let teamKey: string;
  let secret: string;

  beforeAll(async () => {
    receiver = new Receiver();
    await receiver.start();
    h = await startHarness({
      env: { CALLBACK_RETRY_BASE_MS: '50', CALLBACK_MAX_ATTEMPTS: String(MAX_ATTEMPTS) },
    });
    await createTemplate(h, 'parcel', 'Parcel {{id}} is on its way');
    const key = await h.api('POST', '/v1/api-keys', {
      body: {
        name: 'shipping-svc',
        team: TEAM,
        scopes: ['notifications:send', 'notifications:read'],
      },
    });
    expect(key.status).toBe(201);
    teamKey = key.body.key;
    const created = await h.api('POST', '/v1/callbacks/secret', { key: teamKey });
    expect(created.status).toBe(201);
    secret = created.body.secret;
  });

  afterAll(async () => {
    await h?.close();
    await receiver?.close();
  });

  async function send(
    to: string,
    path: string,
    extra: Record<string, unknown> = {},
  ): Promise<{ id: string; messageId: string }> {
    const res = await h.api('POST', '/v1/notifications', {
      key: teamKey,
      body: {
        template: 'parcel',
        to,
        variables: { id: 'P-1' },
        callback_url: `${receiver.url}${path}`,
        ...extra,
      },
    });
    expect(res.status).toBe(202);
    return { id: res.body.id, messageId: res.body.messages[0].id };
  }

  async function deliveries(notificationId: string, key = teamKey) {
    const res = await h.api('GET', `/v1/notifications/${notificationId}/callbacks`, { key });
    expect(res.status).toBe(200);
    return res.body.data as {
      id: string;
      message_id: string;
      event: string;
      status: string;
      attempts: number;
      last_status_code: number | null;
      last_error: string | null;
      next_attempt_at: string | null;
      delivered_at: string | null;
      redelivered_at: string | null;
    }[];
  }

  async function settled(notificationId: string, count: number) {
    return waitFor(
      async () => {
        const list = await deliveries(notificationId);
        return list.length === count && list.every((d) => d.status !== 'pending') ? list : null;
      },
      { what: `${count} settled callbacks of ${notificationId}`, intervalMs: 100 },
    );
  }

  it('issues a team secret once and never shows it again', async () => {
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const info = await h.api('GET', '/v1/callbacks/secret', { key: teamKey });
    expect(info.status).toBe(200);
    expect(info.body).toEqual({ team: TEAM, created_at: expect.any(String) });
    expect(info.text).not.toContain(secret.slice(6));

    const other = await h.api('POST', '/v1/callbacks/secret?team=billing', { key: teamKey });
    expect(other.status).toBe(403);
    const byAdmin = await h.api('POST', '/v1/callbacks/secret?team=billing');
    expect(byAdmin.status).toBe(201);
    expect(byAdmin.body.team).toBe('billing');
    expect(byAdmin.body.secret).not.toBe(secret);
    expect((await h.api('GET', '/v1/callbacks/secret?team=nobody')).body.error.code).toBe(
      'callback_secret_not_found',
    );
  });

  it('calls back queued, sent and delivered in order, signed with the team secret', async () => {
    const { id, messageId } = await send('+14155550101', '/ok/happy', { reference: 'order-42' });
    await waitForFinal(h, id);
    const list = await settled(id, 3);
    await waitFor(() => receiver.at('/ok/happy').length === 3, { what: 'three callbacks' });
    const received = receiver.at('/ok/happy');

    const bodies = received.map((r) => JSON.parse(r.body));
    expect(bodies.map((b) => b.event)).toEqual([
      'message.queued',
      'message.sent',
      'message.delivered',
    ]);
    for (const [i, body] of bodies.entries()) {
      expect(Object.keys(body)).toEqual([
        'event',
        'notification_id',
        'message_id',
        'reference',
        'to',
        'status',
        'error',
        'occurred_at',
      ]);
      expect(body).toMatchObject({
        notification_id: id,
        message_id: messageId,
        reference: 'order-42',
        to: '+14155550101',
        error: null,
      });
      expect(body.status).toBe(body.event.replace('message.', ''));
      expect(new Date(body.occurred_at).toISOString()).toBe(body.occurred_at);
      const r = received[i];
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['webhook-id']).toBe(list[i].id);
      expect(verifyCallback({ body: r.body, headers: r.headers, secret })).toBe(true);
      expect(verifyByRecipe(r.body, r.headers, secret)).toBe(true);
    }

    expect(list.map((d) => [d.event, d.status, d.attempts, d.last_status_code])).toEqual([
      ['message.queued', 'delivered', 1, 204],
      ['message.sent', 'delivered', 1, 204],
      ['message.delivered', 'delivered', 1, 204],
    ]);
    expect(list.every((d) => d.delivered_at !== null && d.next_attempt_at === null)).toBe(true);
  });

  it('rejects a tampered callback', async () => {
    const [r] = receiver.at('/ok/happy');
    const tamperedBody = r.body.replace('"status":"queued"', '"status":"delivered"');
    expect(tamperedBody).not.toBe(r.body);
    const stamp = String(Number(r.headers['webhook-timestamp']) + 1);
    const cases: [string, IncomingHttpHeaders, string][] = [
      [tamperedBody, r.headers, secret],
      [r.body, { ...r.headers, 'webhook-timestamp': stamp }, secret],
      [r.body, { ...r.headers, 'webhook-id': 'someone-else' }, secret],
      [r.body, r.headers, (await h.api('POST', '/v1/callbacks/secret?team=other')).body.secret],
    ];
    for (const [body, headers, key] of cases) {
      expect(verifyCallback({ body, headers, secret: key })).toBe(false);
      expect(verifyByRecipe(body, headers, key)).toBe(false);
    }
    // Too old, however genuine.
    const later = new Date((Number(r.headers['webhook-timestamp']) + 301) * 1000);
    expect(verifyCallback({ body: r.body, headers: r.headers, secret, now: later })).toBe(false);
  });

  it('retries a failing endpoint exactly CALLBACK_MAX_ATTEMPTS times, then marks the callback failed', async () => {
    const { id } = await send('+14155550102', '/down/1');
    await waitForFinal(h, id);
    const list = await settled(id, 3);
    for (const d of list) {
      expect(d).toMatchObject({
        status: 'failed',
        attempts: MAX_ATTEMPTS,
        last_status_code: 500,
        last_error: 'HTTP 500',
        delivered_at: null,
        next_attempt_at: null,
      });
    }
    // Nothing more arrives once they have failed: no attempt is left planned for them, neither in
    // the database (asserted above) nor in the queue, once the last one has run.
    const ids = list.map((d) => d.id);
    const queue = h.app.get<Queue<CallbackJobData>>(getQueueToken(CALLBACK_QUEUE));
    await waitFor(
      async () => {
        const jobs = await queue.getJobs(['waiting', 'delayed', 'active', 'paused']);
        return !jobs.some((job) => job && ids.includes(job.data.deliveryId));
      },
      { what: 'no callback attempt left in the queue' },
    );
    const received = receiver.at('/down/1');
    expect(received).toHaveLength(3 * MAX_ATTEMPTS);
    const byId = new Map<string, Received[]>();
    for (const r of received)
      byId.set(String(r.headers['webhook-id']), [
        ...(byId.get(String(r.headers['webhook-id'])) ?? []),
        r,
      ]);
    expect([...byId.keys()]).toEqual(list.map((d) => d.id));
    for (const attempts of byId.values()) {
      expect(attempts).toHaveLength(MAX_ATTEMPTS);
      // Each retry is signed anew, and every attempt verifies.
      for (const r of attempts)
        expect(verifyCallback({ body: r.body, headers: r.headers, secret })).toBe(true);
    }
    // In order: the message's next callback waited for the previous one to give up.
    expect(received.map((r) => JSON.parse(r.body).event)).toEqual([
      ...Array<string>(MAX_ATTEMPTS).fill('message.queued'),
      ...Array<string>(MAX_ATTEMPTS).fill('message.sent'),
      ...Array<string>(MAX_ATTEMPTS).fill('message.delivered'),
    ]);
  });

  it('redelivers failed callbacks on request, with a new round of attempts, in order', async () => {
    const path = '/outage/1';
    const { id } = await send('+14155550108', path);
    await waitForFinal(h, id);
    const failed = await settled(id, 3);
    expect(failed.map((d) => [d.status, d.attempts, d.redelivered_at])).toEqual(
      Array(3).fill(['failed', MAX_ATTEMPTS, null]),
    );
    const stranger = await h.api('POST', '/v1/api-keys', {
      body: { name: 'y', team: 'outsiders', scopes: ['notifications:send'] },
    });
    const hidden = await h.api('POST', `/v1/notifications/${id}/callbacks/redeliver`, {
      key: stranger.body.key,
    });
    expect(hidden.status).toBe(404);
    expect(hidden.body.error.code).toBe('notification_not_found');

    // The operator's list of failed callbacks across notifications shows them, to its team only.
    const failedIds = (list: { body: { data: { id: string; notification_id: string }[] } }) =>
      list.body.data.filter((d) => d.notification_id === id).map((d) => d.id);
    const listed = await h.api('GET', '/v1/callbacks/failed', { key: teamKey });
    expect(listed.status).toBe(200);
    expect(failedIds(listed).sort()).toEqual(failed.map((d) => d.id).sort());
    const strangerList = await h.api('GET', '/v1/callbacks/failed', { key: stranger.body.key });
    expect(strangerList.status).toBe(403); // notifications:send only
    const reader = await h.api('POST', '/v1/api-keys', {
      body: { name: 'z', team: 'outsiders', scopes: ['notifications:read'] },
    });
    const outsiders = await h.api('GET', '/v1/callbacks/failed', { key: reader.body.key });
    expect(outsiders.body.data).toEqual([]);

    receiver.restore(path);
    const before = receiver.at(path).length;
    const res = await h.api('POST', `/v1/notifications/${id}/callbacks/redeliver`, {
      key: teamKey,
    });
    expect(res.status).toBe(200);
    expect(
      res.body.data.map((d: { id: string; status: string; redelivered_at: string | null }) => [
        d.id,
        d.status,
        typeof d.redelivered_at,
      ]),
    ).toEqual(failed.map((d) => [d.id, 'pending', 'string']));

    const done = await settled(id, 3);
    expect(done.map((d) => [d.status, d.attempts, d.last_status_code, d.last_error])).toEqual(
      Array(3).fill(['delivered', MAX_ATTEMPTS + 1, 204, null]),
    );
    // One more request each, same webhook-id (receivers deduplicate on it), in status order.
    const again = receiver.at(path).slice(before);
    expect(again.map((r) => [r.headers['webhook-id'], JSON.parse(r.body).event])).toEqual([
      [failed[0].id, 'message.queued'],
      [failed[1].id, 'message.sent'],
      [failed[2].id, 'message.delivered'],
    ]);
    for (const r of again)
      expect(verifyCallback({ body: r.body, headers: r.headers, secret })).toBe(true);

    // Nothing is failed any more: a repeated request re-arms nothing.
    const nothing = await h.api('POST', `/v1/notifications/${id}/callbacks/redeliver`, {
      key: teamKey,
    });
    expect(nothing.status).toBe(200);
    expect(nothing.body.data).toEqual([]);
    expect(failedIds(await h.api('GET', '/v1/callbacks/failed', { key: teamKey }))).toEqual([]);
  });

  it('delivers on the second attempt after one failure', async () => {
    const { id } = await send('+14155550103', '/flaky/1');
    await waitForFinal(h, id);
    const list = await settled(id, 3);
    expect(
      list.map((d) => [d.event, d.status, d.attempts, d.last_status_code, d.last_error]),
    ).toEqual([
      ['message.queued', 'delivered', 2, 200, null],
      ['message.sent', 'delivered', 1, 200, null],
      ['message.delivered', 'delivered', 1, 200, null],
    ]);
    const first = receiver.at('/flaky/1').filter((r) => r.headers['webhook-id'] === list[0].id);
    expect(first.map((r) => r.answered)).toEqual([500, 200]);
    expect(first[0].body).toBe(first[1].body);
  });

  it('reports a failed message with its error code', async () => {
    const { id } = await send('+14155550666', '/ok/failed');
    const final = await waitForFinal(h, id);
    expect(final.messages[0].status).toBe('failed');
    await waitFor(
      () => receiver.at('/ok/failed').some((r) => JSON.parse(r.body).event === 'message.failed'),
      {
        what: 'the message.failed callback',
      },
    );
    const failed = receiver
      .at('/ok/failed')
      .map((r) => JSON.parse(r.body))
      .find((b) => b.event === 'message.failed');
    expect(failed.status).toBe('failed');
    expect(failed.error).toEqual({
      code: final.messages[0].error.code,
      message: expect.any(String),
    });
    expect(failed.error.code).toMatch(/\w/);
    const bodies = receiver.at('/ok/failed');
    expect(bodies.every((r) => verifyCallback({ body: r.body, headers: r.headers, secret }))).toBe(
      true,
    );
  });

  it('calls back message.pending when a scheduled message comes due', async () => {
    const scheduledAt = new Date(Date.now() + 1000).toISOString();
    const { id } = await send('+14155550106', '/ok/scheduled', { scheduled_at: scheduledAt });
    await waitForFinal(h, id);
    await settled(id, 4);
    await waitFor(() => receiver.at('/ok/scheduled').length === 4, { what: 'four callbacks' });
    expect(receiver.at('/ok/scheduled').map((r) => JSON.parse(r.body).event)).toEqual([
      'message.pending',
      'message.queued',
      'message.sent',
      'message.delivered',
    ]);
  });

  it('sends a pending callback found in the database whatever Redis holds', async () => {
    // As after a Redis flush during a retry's wait: the row says an attempt is due, no job exists.
    const { id } = await send('+14155550107', '/ok/recovered');
    await waitForFinal(h, id);
    const [first] = await settled(id, 3);
    await h.sql(
      `UPDATE callback_deliveries SET status = 'pending', delivered_at = NULL, next_attempt_at = now()
       WHERE id = $1`,
      [first.id],
    );
    await waitFor(
      async () => {
        const [d] = await deliveries(id);
        return d.status === 'delivered' && d.attempts === 2;
      },
      { what: 'the recovered callback to be delivered' },
    );
    expect(
      receiver.at('/ok/recovered').filter((r) => r.headers['webhook-id'] === first.id),
    ).toHaveLength(2);
  });

  it("hides another team's callbacks and creates none without a callback_url", async () => {
    const { id } = await send('+14155550104', '/ok/private');
    const stranger = await h.api('POST', '/v1/api-keys', {
      body: { name: 'x', team: 'strangers', scopes: ['notifications:read'] },
    });
    const hidden = await h.api('GET', `/v1/notifications/${id}/callbacks`, {
      key: stranger.body.key,
    });
    expect(hidden.status).toBe(404);
    expect(hidden.body.error.code).toBe('notification_not_found');
    expect((await h.api('GET', '/v1/notifications/not-a-uuid/callbacks')).status).toBe(404);
    // Admin keys see every team's.
    expect((await h.api('GET', `/v1/notifications/${id}/callbacks`)).status).toBe(200);

    const plain = await h.api('POST', '/v1/notifications', {
      key: teamKey,
      body: { template: 'parcel', to: '+14155550105', variables: { id: 'P-2' } },
    });
    await waitForFinal(h, plain.body.id);
    const [row] = await h.sql(
      'SELECT count(*)::int AS n FROM callback_deliveries WHERE notification_id = $1',
      [plain.body.id],
    );
    expect(row.n).toBe(0);
  });
});
