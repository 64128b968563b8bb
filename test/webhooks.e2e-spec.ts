import { generateTestWebhook, signWebhookPayload } from '@app/sms-provider';
import {
  createTemplate,
  type Harness,
  startHarness,
  waitFor,
  waitForFinal,
} from './support/harness';

const SECRET = 'whsec_sandbox';
const PATH = '/v1/webhooks/sms-provider';

describe('Provider webhooks and reconciliation (e2e)', () => {
  let h: Harness;
  let seq = 0;

  beforeAll(async () => {
    h = await startHarness({
      env: {
        RECONCILE_INTERVAL_MS: '200',
        RECONCILE_STALE_AFTER_MS: '400',
        RECONCILE_MAX_AGE_MS: '3000',
      },
    });
    await createTemplate(h, 'note', 'Note {{n}}');
  });
  afterAll(() => h?.close());

  const post = (body: string, headers: Record<string, string>) =>
    h.api('POST', PATH, {
      rawBody: body,
      headers: { 'content-type': 'application/json', ...headers },
      key: null,
    });
  const deliver = (payload: object) => {
    const signed = generateTestWebhook(payload, SECRET);
    return post(signed.body, signed.headers);
  };

  /** A message that our side has handed over (status queued, a provider id) with no webhook yet. */
  async function queuedMessage(): Promise<{
    id: string;
    providerId: string;
    notificationId: string;
  }> {
    seq += 1;
    await h.api('POST', '/v1/queue/pause');
    const res = await h.api('POST', '/v1/notifications', {
      body: { template: 'note', to: `+1415555${String(7000 + seq)}`, variables: { n: seq } },
    });
    await h.api('POST', '/v1/queue/resume');
    await h.api('POST', '/v1/queue/pause');
    const providerId = `msg_test_${seq}_${Date.now()}`;
    const id = res.body.messages[0].id;
    // Stand in for the worker's commit so that only the webhooks under test move it.
    await h.sql(
      `UPDATE messages SET status = 'queued', provider_message_id = $2, queued_at = now() WHERE id = $1`,
      [id, providerId],
    );
    await h.api('POST', '/v1/queue/resume');
    return { id, providerId, notificationId: res.body.id };
  }

  const eventsOf = (id: string) =>
    h.sql(`SELECT type, source FROM message_events WHERE message_id = $1 ORDER BY id`, [id]);
  const statusOf = async (id: string) =>
    (await h.sql(`SELECT status FROM messages WHERE id = $1`, [id]))[0].status;

  it('refuses every forgery with 401 and the envelope, and changes nothing', async () => {
    const m = await queuedMessage();
    const payload = {
      event: 'message.delivered',
      message_id: m.providerId,
      status: 'delivered',
      timestamp: 1,
    };
    const body = JSON.stringify(payload);
    const good = signWebhookPayload(body, SECRET);
    const forgeries: [string, Record<string, string>][] = [
      ['none', {}],
      ['wrong secret', { 'x-smsprovider-signature': signWebhookPayload(body, 'whsec_other') }],
      ['wrong length', { 'x-smsprovider-signature': good.slice(0, 40) }],
      ['non-hex', { 'x-smsprovider-signature': 'z'.repeat(64) }],
      ['empty', { 'x-smsprovider-signature': '' }],
    ];
    for (const [, headers] of forgeries) {
      const res = await post(body, headers);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({
        success: false,
        error: { code: 'invalid_signature', message: expect.any(String) },
      });
    }
    const tampered = await post(body.replace('delivered', 'failed'), {
      'x-smsprovider-signature': good,
    });
    expect(tampered.status).toBe(401);
    // A repeated header arrives joined ("a, b"): never a valid signature.
    const twice = new Headers({ 'content-type': 'application/json' });
    twice.append('x-smsprovider-signature', good);
    twice.append('x-smsprovider-signature', good);
    const array = await fetch(`${h.url}${PATH}`, { method: 'POST', headers: twice, body });
    expect(array.status).toBe(401);
    expect(await statusOf(m.id)).toBe('queued');
  });

  it('accepts the raw-body signature and the provider’s JSON.stringify recipe', async () => {
    const m = await queuedMessage();
    const payload = {
      event: 'message.sent',
      message_id: m.providerId,
      status: 'sent',
      sent_at: new Date().toISOString(),
      timestamp: 2,
    };
    // Pretty-printed bytes signed as JSON.stringify(payload): the provider's documented recipe.
    const res = await post(JSON.stringify(payload, null, 2), {
      'x-smsprovider-signature': signWebhookPayload(JSON.stringify(payload), SECRET),
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: true, outcome: 'applied' });
    expect(await statusOf(m.id)).toBe('sent');
  });

  it('applies replays and duplicates once: one event row, status only forward', async () => {
    const m = await queuedMessage();
    const delivered = {
      event: 'message.delivered',
      message_id: m.providerId,
      status: 'delivered',
      delivered_at: new Date().toISOString(),
      timestamp: 3,
    };
    const sent = {
      event: 'message.sent',
      message_id: m.providerId,
      status: 'sent',
      sent_at: new Date().toISOString(),
      timestamp: 2,
    };
    // Out of order: delivered first, then the late sent, then replays of both.
    expect((await deliver(delivered)).body.outcome).toBe('applied');
    expect((await deliver(sent)).body.outcome).toBe('unchanged');
    expect((await deliver(delivered)).body.outcome).toBe('unchanged');
    const results = await Promise.all(Array.from({ length: 10 }, () => deliver(delivered)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(await statusOf(m.id)).toBe('delivered');
    const events = await eventsOf(m.id);
    expect(events.filter((e) => e.type === 'delivered')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'sent')).toHaveLength(0);
    // Terminal is final: a later failure report changes nothing.
    await deliver({ ...delivered, event: 'message.failed', status: 'failed' });
    expect(await statusOf(m.id)).toBe('delivered');
  });

  it('keeps an event that arrives before the provider id is stored and applies it later', async () => {
    await h.api('POST', '/v1/queue/pause');
    const res = await h.api('POST', '/v1/notifications', {
      body: { template: 'note', to: '+14155557900', variables: { n: 1 } },
    });
    const id = res.body.messages[0].id;
    const providerId = `msg_early_${Date.now()}`;
    const early = await deliver({
      event: 'message.delivered',
      message_id: providerId,
      status: 'delivered',
      delivered_at: new Date().toISOString(),
      timestamp: 9,
    });
    expect(early.status).toBe(200);
    expect(early.body.outcome).toBe('orphaned');
    // Now our side records the provider's id (what the worker does right after the send).
    await h.sql(
      `UPDATE messages SET status = 'queued', provider_message_id = $2, queued_at = now() WHERE id = $1`,
      [id, providerId],
    );
    await h.api('POST', '/v1/queue/resume');
    await waitFor(async () => (await statusOf(id)) === 'delivered', {
      what: 'the parked event to be applied',
    });
    // Applied once, then let go of (the delete follows the apply).
    await waitFor(
      async () =>
        (
          await h.sql(
            `SELECT count(*)::int AS n FROM pending_provider_events WHERE provider_message_id = $1`,
            [providerId],
          )
        )[0].n === 0,
      { what: 'the parked event to be removed' },
    );
    const events = await eventsOf(id);
    expect(events.filter((e) => e.type === 'delivered')).toHaveLength(1);
  });

  it('resolves a message whose webhook never comes by polling, and expires one that never ends', async () => {
    const res = await h.api('POST', '/v1/notifications', {
      body: { template: 'note', to: ['+14155550888', '+14155550999'], variables: { n: 2 } },
    });
    const final = await waitForFinal(h, res.body.id);
    const byTo = Object.fromEntries(final.messages.map((m: { to: string }) => [m.to, m]));
    expect(byTo['+14155550888'].status).toBe('delivered');
    expect(
      byTo['+14155550888'].events.find((e: { type: string }) => e.type === 'delivered').source,
    ).toBe('poll');
    expect(byTo['+14155550999']).toMatchObject({
      status: 'expired',
      error: { code: 'status_timeout' },
    });
  });
});

describe('Webhook registration at start (e2e)', () => {
  it('registers the receiver once per URL, however many instances start', async () => {
    const env = { SMS_PROVIDER_REGISTER_WEBHOOK: 'true', APP_ROLE: 'api' };
    const first = await startHarness({ env });
    const second = await startHarness({ shareWith: first, env });
    try {
      // Both instances registered (two POST /v1/webhooks reached the provider)…
      await waitFor(async () => {
        const log: { method: string; path: string; status: number | null }[] =
          await first.sandboxAdmin('GET', '/requests');
        return (
          log.filter((r) => r.method === 'POST' && r.path === '/v1/webhooks' && r.status !== null)
            .length === 2
        );
      });
      // …and the provider holds one subscription for our URL, with the status events.
      const url = `${first.env.PUBLIC_BASE_URL}/v1/webhooks/sms-provider`;
      const subscriptions: { url: string; events: string[] }[] = await first.sandboxAdmin(
        'GET',
        '/webhooks/subscriptions',
      );
      const ours = subscriptions.filter((sub) => sub.url === url);
      expect(ours).toHaveLength(1);
      expect(ours[0].events).toEqual(
        expect.arrayContaining(['message.delivered', 'message.failed']),
      );
    } finally {
      await second.close();
      await first.close();
    }
  });
});
