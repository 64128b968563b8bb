import { Client } from 'pg';
import { deleteRedisKeys, stackKeysPattern } from '../tools/stack';
import {
  createTemplate,
  type Harness,
  startHarness,
  waitFor,
  waitForFinal,
} from './support/harness';

interface SandboxMessage {
  message_id: string;
  to: string;
  created_at?: string;
}

describe('Pipeline: idempotency, scheduling, cancel, expiry, priority, recovery (e2e)', () => {
  let h: Harness;
  const body = (to: string | string[], extra: Record<string, unknown> = {}) => ({
    template: 'otp',
    to,
    variables: { code: '123456' },
    ...extra,
  });
  const send = (payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
    h.api('POST', '/v1/notifications', { body: payload, headers });
  const requestsTo = async (to: string) => {
    const messages: SandboxMessage[] = await h.sandboxAdmin('GET', '/messages');
    return messages.filter((m) => m.to === to);
  };

  beforeAll(async () => {
    h = await startHarness();
    await createTemplate(h, 'otp', 'Your code is {{code}}');
  });
  afterAll(() => h?.close());

  it('same Idempotency-Key and body returns the original response without a new send', async () => {
    const headers = { 'Idempotency-Key': 'order-1001' };
    const first = await send(body('+14155550110'), headers);
    expect(first.status).toBe(202);
    const again = await send(body('+14155550110'), headers);
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    // Key order in the body doesn't make it a different request.
    const reordered = await send(
      { variables: { code: '123456' }, to: '+14155550110', template: 'otp' },
      headers,
    );
    expect(reordered.body.id).toBe(first.body.id);

    const conflict = await send(body('+14155550111'), headers);
    expect(conflict.status).toBe(422);
    expect(conflict.body.error.code).toBe('idempotency_conflict');

    await waitForFinal(h, first.body.id);
    expect(await requestsTo('+14155550110')).toHaveLength(1);
    const [row] = await h.sql(`SELECT count(*)::int AS n FROM notifications WHERE id = $1`, [
      first.body.id,
    ]);
    expect(row.n).toBe(1);
  });

  it('10 concurrent requests with one key create one notification', async () => {
    const headers = { 'Idempotency-Key': 'burst-7' };
    const results = await Promise.all(
      Array.from({ length: 10 }, () => send(body('+14155550112'), headers)),
    );
    const ids = new Set(results.filter((r) => r.status === 202).map((r) => r.body.id));
    for (const r of results) expect([202, 409]).toContain(r.status);
    expect(ids.size).toBe(1);
    const [row] = await h.sql(
      `SELECT count(DISTINCT n.id)::int AS notifications, count(m.id)::int AS messages
       FROM notifications n JOIN messages m ON m.notification_id = n.id WHERE m.recipient = $1`,
      ['+14155550112'],
    );
    expect(row).toEqual({ notifications: 1, messages: 1 });
    await waitForFinal(h, [...ids][0]);
    expect(await requestsTo('+14155550112')).toHaveLength(1);
  });

  it('a duplicate while the first is still being stored gets 409 idempotency_in_progress', async () => {
    const probe = await send(body('+14155550119'), { 'Idempotency-Key': 'probe-team' });
    expect(probe.status).toBe(202);
    const [{ team }] = await h.sql(`SELECT team FROM idempotency_records WHERE key = 'probe-team'`);
    // A first request in flight: its idempotency row inserted, its transaction not committed.
    const first = new Client({ connectionString: h.env.DATABASE_URL });
    await first.connect();
    try {
      await first.query('BEGIN');
      await first.query(
        `INSERT INTO idempotency_records (team, key, request_hash, expires_at)
         VALUES ($1, 'slow-1', 'in-flight', now() + interval '1 day')`,
        [team],
      );
      // The duplicate waits for it (up to 5 s), then is told to come back.
      const duplicate = await send(body('+14155550118'), { 'Idempotency-Key': 'slow-1' });
      expect(duplicate.status).toBe(409);
      expect(duplicate.body.error.code).toBe('idempotency_in_progress');
      expect(duplicate.headers.get('retry-after')).toBe('1');
      await first.query('ROLLBACK');
    } finally {
      await first.end();
    }
    const [stored] = await h.sql(
      `SELECT count(*)::int AS n FROM messages WHERE recipient = '+14155550118'`,
    );
    expect(stored.n).toBe(0);
    // The first never committed: the retry is a new request and is accepted.
    const retry = await send(body('+14155550118'), { 'Idempotency-Key': 'slow-1' });
    expect(retry.status).toBe(202);
  });

  it('hands a scheduled message to the provider at its time, under a second late', async () => {
    const scheduledAt = new Date(Date.now() + 2500);
    const res = await send(body('+14155550113', { scheduled_at: scheduledAt.toISOString() }));
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('scheduled');
    expect(res.body.messages[0].status).toBe('scheduled');
    const final = await waitForFinal(h, res.body.id);
    expect(final.messages[0].status).toBe('delivered');

    const log: { at: number; path: string; method: string }[] = await h.sandboxAdmin(
      'GET',
      `/requests?since=${scheduledAt.getTime() - 2000}`,
    );
    const [message] = await requestsTo('+14155550113');
    expect(message).toBeDefined();
    const queuedAt = new Date(final.messages[0].queued_at).getTime();
    const arrival = log
      .filter((r) => r.method === 'POST' && r.at <= queuedAt + 5)
      .map((r) => r.at)
      .pop();
    expect(arrival).toBeDefined();
    const lateMs = (arrival as number) - scheduledAt.getTime();
    expect(lateMs).toBeGreaterThanOrEqual(0);
    expect(lateMs).toBeLessThan(1000);
    expect(final.messages[0].events.map((e: { type: string }) => e.type)).toEqual([
      'scheduled',
      'pending',
      'queued',
      'sent',
      'delivered',
    ]);
  });

  it('cancel stops a scheduled message; only messages not yet handed over are canceled', async () => {
    const at = Date.now() + 1500;
    const canceled = await send(body('+14155550114', { scheduled_at: new Date(at).toISOString() }));
    const control = await send(
      body('+14155550115', { scheduled_at: new Date(at + 300).toISOString() }),
    );
    const cancel = await h.api('POST', `/v1/notifications/${canceled.body.id}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ canceled: 1, messages: [{ status: 'canceled' }] });

    // The control message, due later, is delivered: the canceled one had its chance and didn't go.
    await waitForFinal(h, control.body.id);
    expect(await requestsTo('+14155550114')).toHaveLength(0);
    const view = await h.api('GET', `/v1/notifications/${canceled.body.id}`);
    expect(view.body.messages[0].status).toBe('canceled');

    const again = await h.api('POST', `/v1/notifications/${control.body.id}/cancel`);
    expect(again.body.canceled).toBe(0);
    expect(again.body.messages[0].status).toBe('delivered');
  });

  it('a message whose expires_at passes before sending becomes expired, never sent', async () => {
    await h.api('POST', '/v1/queue/pause');
    try {
      const res = await send(
        body('+14155550116', { expires_at: new Date(Date.now() + 800).toISOString() }),
      );
      expect(res.status).toBe(202);
      const view = await waitFor(async () => {
        const r = await h.api('GET', `/v1/notifications/${res.body.id}`);
        return r.body.messages[0].status === 'expired' ? r.body : null;
      });
      expect(view.messages[0].error.code).toBe('validity_elapsed');
    } finally {
      await h.api('POST', '/v1/queue/resume');
    }
    expect(await requestsTo('+14155550116')).toHaveLength(0);
  });

  it('high priority goes before a backlog of low priority', async () => {
    await h.api('POST', '/v1/queue/pause');
    const low = Array.from({ length: 30 }, (_, i) => `+1415555${String(2000 + i)}`);
    const high = ['+14155553001', '+14155553002', '+14155553003'];
    const lowRes = await send(body(low, { priority: 'low' }));
    const highRes = await send(body(high, { priority: 'high' }));
    expect(lowRes.status).toBe(202);
    expect(highRes.status).toBe(202);
    await h.api('POST', '/v1/queue/resume');
    await waitForFinal(h, highRes.body.id);
    await waitForFinal(h, lowRes.body.id);

    // The provider requests in the order they were handed over (each carries one priority).
    const requests: { provider_message_id: string; recipients: string[] }[] = await h.sql(
      `SELECT provider_message_id, array_agg(recipient) AS recipients FROM messages
       WHERE recipient = ANY($1) GROUP BY provider_message_id ORDER BY min(queued_at)`,
      [[...low, ...high]],
    );
    // Both requests were queued while paused. Workers take the high jobs first; with `concurrency`
    // jobs in flight at once, the high ones are all in the first `concurrency` requests.
    const at = (to: string) => requests.findIndex((r) => r.recipients.includes(to));
    for (const number of high) expect(at(number)).toBeLessThan(h.config.sending.concurrency);
    expect(requests.flatMap((r) => r.recipients).sort()).toEqual([...low, ...high].sort());
  });

  it('work lost from Redis is found again from the database', async () => {
    await h.api('POST', '/v1/queue/pause');
    const res = await send(body(['+14155550117', '+14155550118']));
    // Simulate a Redis flush of this stack's keys (the shared limiter state goes too).
    await deleteRedisKeys(h.config.redisUrl, stackKeysPattern(h.queuePrefix));
    await h.api('POST', '/v1/queue/resume');
    const final = await waitForFinal(h, res.body.id);
    expect(final.messages.map((m: { status: string }) => m.status)).toEqual([
      'delivered',
      'delivered',
    ]);
    expect(await requestsTo('+14155550117')).toHaveLength(1);
  });
});
