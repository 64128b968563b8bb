import { generateTestWebhook } from '@app/sms-provider';
import {
  createTemplate,
  type Harness,
  numbers,
  startHarness,
  waitFor,
  waitForFinal,
} from './support/harness';

/** One recipient of a send, as the sandbox's admin view lists it. */
interface SandboxRecipient {
  message_id: string;
  to: string;
  status: string;
}

const WEBHOOK_PATH = '/v1/webhooks/sms-provider';

/**
 * Many recipients per provider request: messages that would put the same body on the wire go
 * out as one POST /messages with `to: [...]`, and each recipient keeps its own row, status,
 * timeline and credits.
 */
describe('Batching: many recipients per provider request (e2e)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
    await createTemplate(h, 'sale', 'Sale {{n}} starts now');
  });
  afterAll(() => h?.close());

  const send = (to: string | string[], n: number | string) =>
    h.api('POST', '/v1/notifications', {
      body: { template: 'sale', to, variables: { n } },
    });

  /** The provider requests that reached the sandbox for these recipients, by provider id. */
  async function requestsFor(recipients: string[]): Promise<Map<string, string[]>> {
    const wanted = new Set(recipients);
    const seen: SandboxRecipient[] = await h.sandboxAdmin('GET', '/messages');
    const requests = new Map<string, string[]>();
    for (const m of seen) {
      if (!wanted.has(m.to)) continue;
      requests.set(m.message_id, [...(requests.get(m.message_id) ?? []), m.to]);
    }
    return requests;
  }

  const rowsOf = (notificationId: string) =>
    h.sql<{
      recipient: string;
      status: string;
      provider_message_id: string | null;
      credits_used: number | null;
      error_code: string | null;
      attempts: number;
    }>(
      `SELECT recipient, status, provider_message_id, credits_used, error_code, attempts
       FROM messages WHERE notification_id = $1 ORDER BY recipient`,
      [notificationId],
    );

  it("sends a notification's recipients as one request; each keeps its own row, status, credits and callback row", async () => {
    const to = numbers(2000, 50);
    const res = await send(to, 1);
    expect(res.status).toBe(202);
    const done = await waitForFinal(h, res.body.id);
    expect(done.messages.map((m: { status: string }) => m.status)).toEqual(
      to.map(() => 'delivered'),
    );

    const requests = await requestsFor(to);
    expect([...requests.values()].map((r) => r.length)).toEqual([50]);
    const rows = await rowsOf(res.body.id);
    expect(new Set(rows.map((r) => r.provider_message_id))).toEqual(new Set(requests.keys()));
    // One segment each: the request's credits split per recipient.
    expect(rows.every((r) => r.credits_used === 1 && r.attempts === 1)).toBe(true);

    // Each recipient's own timeline, with a status change per step (what its callback carries).
    const timeline = await h.sql<{ status: string }>(
      `SELECT e.status FROM message_events e JOIN messages m ON m.id = e.message_id
       WHERE m.notification_id = $1 AND m.recipient = $2 AND e.status_change ORDER BY e.id`,
      [res.body.id, to[7]],
    );
    expect(timeline.map((e) => e.status)).toEqual(['queued', 'sent', 'delivered']);
  });

  it('mixed outcomes in one request: delivered, failed, expired; an invalid number fails alone and the rest still go', async () => {
    const to = ['+14155553001', '+14155553666', '+14155553777', '+14155553400', '+14155553002'];
    const res = await send(to, 2);
    await waitForFinal(h, res.body.id);
    const rows = await rowsOf(res.body.id);
    expect(rows.map((r) => [r.recipient, r.status, r.error_code])).toEqual([
      ['+14155553001', 'delivered', null],
      ['+14155553002', 'delivered', null],
      ['+14155553400', 'failed', 'invalid_phone_number'],
      ['+14155553666', 'failed', expect.any(String)],
      ['+14155553777', 'expired', expect.any(String)],
    ]);
    // The refused number never reached the provider; the four others went as one request.
    const requests = await requestsFor(to);
    expect([...requests.values()].map((r) => r.sort())).toEqual([
      ['+14155553001', '+14155553002', '+14155553666', '+14155553777'],
    ]);
    const refused = rows.find((r) => r.recipient === '+14155553400');
    expect(refused?.credits_used).toBeNull();
  });

  it('batches notifications of one template posted one by one', async () => {
    const to = numbers(4000, 30);
    await h.api('POST', '/v1/queue/pause');
    const ids: string[] = [];
    try {
      for (const number of to) ids.push((await send(number, 3)).body.id);
    } finally {
      await h.api('POST', '/v1/queue/resume');
    }
    for (const id of ids) await waitForFinal(h, id);
    const requests = await requestsFor(to);
    // Every recipient once, in one request: the first job's worker gathers the other 29 while
    // the workers holding their jobs wait, and then find their messages taken.
    expect([...requests.values()].map((r) => r.sort())).toEqual([[...to].sort()]);
  });

  it('never sends a message before its time: a mate scheduled within the window is waited for', async () => {
    const at = Date.now() + 2000;
    const first = await h.api('POST', '/v1/notifications', {
      body: {
        template: 'sale',
        to: '+14155556001',
        variables: { n: 6 },
        scheduled_at: new Date(at).toISOString(),
      },
    });
    const second = await h.api('POST', '/v1/notifications', {
      body: {
        template: 'sale',
        to: '+14155556002',
        variables: { n: 6 },
        scheduled_at: new Date(at + 150).toISOString(),
      },
    });
    await waitForFinal(h, first.body.id);
    await waitForFinal(h, second.body.id);
    const seen: (SandboxRecipient & { created_at: string })[] = await h.sandboxAdmin(
      'GET',
      '/messages',
    );
    const arrival = (to: string) =>
      new Date(seen.find((m) => m.to === to)?.created_at ?? 0).getTime();
    // Within the window: one request, which left no sooner than the later one's time.
    expect(seen.find((m) => m.to === '+14155556001')?.message_id).toBe(
      seen.find((m) => m.to === '+14155556002')?.message_id,
    );
    expect(arrival('+14155556001')).toBeGreaterThanOrEqual(at);
    expect(arrival('+14155556002')).toBeGreaterThanOrEqual(at + 150);
  });

  it('applies webhooks for a batch out of order and duplicated: each recipient moves once per status', async () => {
    // Numbers ending 888 are delivered without webhooks: only the ones posted here move them.
    const to = ['+14155551888', '+14155552888', '+14155553888'];
    const res = await send(to, 4);
    const rows = await waitFor(
      async () => {
        const found = await rowsOf(res.body.id);
        return found.every((r) => r.status === 'queued') ? found : null;
      },
      { what: 'the batch to be handed over' },
    );
    const providerId = rows[0].provider_message_id;
    expect(rows.every((r) => r.provider_message_id === providerId)).toBe(true);

    const event = (recipient: string, status: 'sent' | 'delivered') => ({
      event: `message.${status}`,
      message_id: providerId,
      to: recipient,
      status,
      timestamp: new Date().toISOString(),
    });
    const events = to.flatMap((r) => [
      event(r, 'delivered'),
      event(r, 'sent'),
      event(r, 'delivered'),
      event(r, 'sent'),
    ]);
    const answers = await Promise.all(
      events.map((payload) => {
        const signed = generateTestWebhook(payload, h.sandbox.config.webhookSecret);
        return h.api('POST', WEBHOOK_PATH, {
          rawBody: signed.body,
          headers: { 'content-type': 'application/json', ...signed.headers },
          key: null,
        });
      }),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);

    // An event that names no recipient cannot say which one it is about: it moves none.
    const vague = generateTestWebhook(
      { event: 'message.failed', message_id: providerId, status: 'failed' },
      h.sandbox.config.webhookSecret,
    );
    await h.api('POST', WEBHOOK_PATH, {
      rawBody: vague.body,
      headers: { 'content-type': 'application/json', ...vague.headers },
      key: null,
    });

    const after = await rowsOf(res.body.id);
    expect(after.map((r) => r.status)).toEqual(['delivered', 'delivered', 'delivered']);
    const changes = await h.sql<{ recipient: string; status: string; n: number }>(
      `SELECT m.recipient, e.status, count(*)::int AS n FROM message_events e
       JOIN messages m ON m.id = e.message_id
       WHERE m.notification_id = $1 AND e.status_change GROUP BY 1, 2 ORDER BY 1, 2`,
      [res.body.id],
    );
    // Each recipient: one row per status it reached. `sent` after `delivered` is no move, so
    // whether it shows depends on which copy came first.
    for (const r of to) {
      const mine = changes.filter((c) => c.recipient === r);
      expect(mine.every((c) => c.n === 1)).toBe(true);
      expect(mine.map((c) => c.status).filter((s) => s !== 'sent')).toEqual([
        'delivered',
        'queued',
      ]);
    }
  });
});

describe('Batching limits (e2e)', () => {
  it('puts at most SEND_BATCH_MAX recipients in a request, and 1 sends one request per message', async () => {
    for (const [max, count] of [
      [4, 10],
      [1, 5],
    ]) {
      const h = await startHarness({ env: { SEND_BATCH_MAX: String(max) } });
      try {
        await createTemplate(h, 'note', 'Note');
        const to = numbers(5000, count);
        const res = await h.api('POST', '/v1/notifications', { body: { template: 'note', to } });
        await waitForFinal(h, res.body.id);
        const seen: SandboxRecipient[] = await h.sandboxAdmin('GET', '/messages');
        const sizes = new Map<string, number>();
        for (const m of seen) sizes.set(m.message_id, (sizes.get(m.message_id) ?? 0) + 1);
        expect([...sizes.values()].reduce((a, b) => a + b, 0)).toBe(count);
        expect(Math.max(...sizes.values())).toBeLessThanOrEqual(max);
        if (max === 1) expect(sizes.size).toBe(count);
      } finally {
        await h.close();
      }
    }
  });
});

describe('Polling a batch (e2e)', () => {
  it("learns every recipient's status from one poll of the request", async () => {
    // The sandbox delivers at 100 ms; the first poll comes 1.5 s after the hand-over, when every
    // recipient's status is final, so one answer is all it takes.
    const h = await startHarness({
      env: { RECONCILE_INTERVAL_MS: '200', RECONCILE_STALE_AFTER_MS: '1500' },
    });
    try {
      await createTemplate(h, 'quiet', 'Quiet {{n}}');
      // Numbers ending 888 are delivered without any webhook: only polls can tell.
      const to = ['+14155551888', '+14155552888', '+14155553888', '+14155554888'];
      const res = await h.api('POST', '/v1/notifications', {
        body: { template: 'quiet', to, variables: { n: 1 } },
      });
      const done = await waitForFinal(h, res.body.id);
      expect(done.messages.map((m: { status: string }) => m.status)).toEqual(
        to.map(() => 'delivered'),
      );
      const [row] = await h.sql<{ ids: number }>(
        `SELECT count(DISTINCT provider_message_id)::int AS ids FROM messages WHERE notification_id = $1`,
        [res.body.id],
      );
      expect(row.ids).toBe(1);
      // One request's id, asked once: its answer lists all four recipients.
      const log = await h.sandboxAdmin<{ method: string; path: string }[]>('GET', '/requests');
      const polls = log.filter((r) => r.method === 'GET' && r.path.startsWith('/v1/messages/'));
      expect(polls).toHaveLength(1);
    } finally {
      await h.close();
    }
  });
});
