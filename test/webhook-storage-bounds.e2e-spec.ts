import { randomBytes } from 'node:crypto';
import { generateTestWebhook } from '@app/sms-provider';
import { createTemplate, type Harness, numbers, startHarness } from './support/harness';

const PATH = '/v1/webhooks/sms-provider';

/** One sample of the scrape: `name{labels} value`, labels as written by prom-client. */
function sample(text: string, name: string, labels = ''): number {
  const escaped = `${name}${labels ? `{${labels}}` : ''}`.replace(/[{}.*+?^$()|[\]\\]/g, '\\$&');
  const match = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

/** Runs `work` over `items` with at most `width` in flight. */
async function inParallel<T, R>(items: T[], width: number, work: (item: T) => Promise<R>) {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i]);
      }
    }),
  );
  return results;
}

const deliver = (h: Harness, payload: object) => {
  const signed = generateTestWebhook(payload, h.config.legacyWebhookAccount.webhookSecret);
  return h.api('POST', PATH, { rawBody: signed.body, headers: signed.headers, key: null });
};

const scrape = async (h: Harness) => (await h.api('GET', '/metrics', { key: null })).text;

/**
 * A signed event about a message we don't know, fat within the webhook body limit (64 KB): a long
 * error code and message, and fields we never read. A flood of these used to be parked whole for 7
 * days, however many came.
 */
function hugeUnknownEvent(i: number): object {
  return {
    event: 'message.failed',
    message_id: `msg_flood_${i}_${randomBytes(4).toString('hex')}`,
    status: 'failed',
    timestamp: Math.floor(Date.now() / 1000),
    error: { code: `E${'x'.repeat(10_000)}`, message: 'm'.repeat(15_000) },
    padding: 'p'.repeat(20_000),
    nested: { more: Array.from({ length: 300 }, (_, k) => ({ k, v: 'junk' })) },
  };
}

describe('Parked provider events are bounded (e2e)', () => {
  it('parks at most PARKED_EVENTS_MAX events, only their parsed fields, and counts the rest', async () => {
    const h = await startHarness({
      env: { PARKED_EVENTS_MAX: '25', PARKED_EVENTS_PER_SECOND: '10000' },
    });
    try {
      const sent = 100;
      const answers = await inParallel(
        Array.from({ length: sent }, (_, i) => i),
        8,
        (i) => deliver(h, hugeUnknownEvent(i)),
      );
      // Every signed event is acknowledged, so the provider does not retry it forever.
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
      const parked = answers.filter((a) => a.body.outcome === 'orphaned').length;
      const dropped = answers.filter((a) => a.body.outcome === 'dropped').length;
      expect(parked + dropped).toBe(sent);

      const [table] = await h.sql<{ n: number; largest: number; keys: string[] }>(
        `SELECT count(*)::int AS n, coalesce(max(pg_column_size(payload)), 0)::int AS largest,
                (SELECT coalesce(array_agg(DISTINCT k), '{}')
                 FROM pending_provider_events, jsonb_object_keys(payload) k) AS keys
         FROM pending_provider_events`,
      );
      expect(table.n).toBeGreaterThan(0);
      expect(table.n).toBeLessThanOrEqual(25);
      expect(table.n).toBe(parked);
      // The fields we use, each bounded: no padding, no 15 KB message, no 10 KB code.
      expect(table.largest).toBeLessThan(2048);
      expect(table.keys.sort()).toEqual(
        ['delivered_at', 'error', 'message_id', 'sent_at', 'status', 'timestamp', 'to'].sort(),
      );
      const [event] = await h.sql<{ payload: { error: { code: string; message: string } } }>(
        `SELECT payload FROM pending_provider_events LIMIT 1`,
      );
      expect(event.payload.error.code.length).toBeLessThanOrEqual(64);
      expect(event.payload.error.message.length).toBeLessThanOrEqual(500);

      const text = await scrape(h);
      expect(sample(text, 'notify_parked_events_dropped_total', 'reason="full"')).toBe(dropped);
      expect(dropped).toBeGreaterThanOrEqual(sent - 25);
    } finally {
      await h.close();
    }
  });

  it('parks at most PARKED_EVENTS_PER_SECOND a second, acknowledging and counting the excess', async () => {
    const h = await startHarness({ env: { PARKED_EVENTS_PER_SECOND: '5' } });
    try {
      const sent = 60;
      const started = Date.now();
      const answers = await inParallel(
        Array.from({ length: sent }, (_, i) => i),
        8,
        (i) =>
          deliver(h, {
            event: 'message.delivered',
            message_id: `msg_rate_${i}_${randomBytes(4).toString('hex')}`,
            status: 'delivered',
            timestamp: 1,
          }),
      );
      const seconds = (Date.now() - started) / 1000;
      expect(answers.every((a) => a.status === 200)).toBe(true);
      const [{ n }] = await h.sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM pending_provider_events`,
      );
      // A burst of one second's worth, then the rate: never more, however fast they come.
      expect(n).toBeLessThanOrEqual(5 * (Math.ceil(seconds) + 1));
      const text = await scrape(h);
      expect(sample(text, 'notify_parked_events_dropped_total', 'reason="rate"')).toBe(sent - n);
      expect(sent - n).toBeGreaterThan(0);
    } finally {
      await h.close();
    }
  });
});

describe('Provider error codes are bounded (e2e)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
    await createTemplate(h, 'codes', 'Hi {{n}}');
  });
  afterAll(() => h?.close());

  /** `count` messages handed to the provider (status queued, provider ids `<prefix>_<i>`). */
  async function handedOver(prefix: string, count: number): Promise<string[]> {
    await h.api('POST', '/v1/queue/pause');
    const res = await h.api('POST', '/v1/notifications', {
      body: { template: 'codes', to: numbers(1000, count), variables: { n: 1 } },
    });
    expect(res.status).toBe(202);
    const ids: string[] = res.body.messages.map((m: { id: string }) => m.id);
    // Stand in for the worker's commit, so that only the webhooks under test move them.
    await h.sql(
      `UPDATE messages SET status = 'queued', queued_at = now(),
         provider_message_id = $2 || '_' || (array_position($1::uuid[], id) - 1)
       WHERE id = ANY($1::uuid[])`,
      [ids, prefix],
    );
    return ids;
  }

  const fail = (providerId: string, code: string) =>
    deliver(h, {
      event: 'message.failed',
      message_id: providerId,
      status: 'failed',
      timestamp: Math.floor(Date.now() / 1000),
      error: { code, message: 'refused by the carrier' },
    });

  it('stores and returns a 10 KB error code bounded, a documented one as it is', async () => {
    const [huge, documented] = await handedOver('msg_huge', 2);
    expect((await fail('msg_huge_0', `Carrier/${'X'.repeat(10_000)}`)).status).toBe(200);
    expect((await fail('msg_huge_1', 'invalid_phone_number')).status).toBe(200);

    const first = await h.api('GET', `/v1/messages/${huge}`);
    expect(first.body.status).toBe('failed');
    expect(first.body.error.code.length).toBeLessThanOrEqual(64);
    expect(first.body.error.code).toMatch(/^[a-z0-9_.-]+$/);
    const second = await h.api('GET', `/v1/messages/${documented}`);
    expect(second.body.error.code).toBe('invalid_phone_number');
    // What is stored can be searched for with the filter the API offers.
    const found = await h.api(
      'GET',
      `/v1/messages?error_code=${encodeURIComponent(first.body.error.code)}`,
    );
    expect(found.status).toBe(200);
    expect(found.body.data.map((m: { id: string }) => m.id)).toContain(huge);
    const [stored] = await h.sql<{ longest: number }>(
      `SELECT max(length(error_code))::int AS longest FROM messages`,
    );
    expect(stored.longest).toBeLessThanOrEqual(64);
  });

  it('keeps the error_code label of /metrics to a fixed set after 1,000 distinct codes', async () => {
    const count = 1000;
    await handedOver('msg_many', count);
    const before = sample(await scrape(h), 'notify_message_failures_total', 'error_code="other"');
    const answers = await inParallel(
      Array.from({ length: count }, (_, i) => i),
      16,
      (i) => fail(`msg_many_${i}`, `made_up_code_${i}_${randomBytes(3).toString('hex')}`),
    );
    expect(answers.every((a) => a.status === 200 && a.body.outcome === 'applied')).toBe(true);

    const text = await scrape(h);
    const labels = new Set(
      [...text.matchAll(/^notify_message_failures_total\{error_code="([^"]*)"\}/gm)].map(
        (m) => m[1],
      ),
    );
    expect(labels.size).toBeLessThanOrEqual(20);
    expect([...labels].every((label) => label.length <= 64)).toBe(true);
    // A thousand made-up codes: one label value for all of them.
    expect(sample(text, 'notify_message_failures_total', 'error_code="other"')).toBe(
      before + count,
    );
  });
});
