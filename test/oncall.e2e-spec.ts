import {
  createTemplate,
  type Harness,
  numbers,
  startHarness,
  waitFor,
  waitForFinal,
} from './support/harness';

/** One sample of the scrape: `name value`, no labels. */
function sample(text: string, name: string): number | null {
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : null;
}

/** A back-off short enough to see several of them in a test. */
const RETRY_BASE_MS = 1000;

/**
 * The on-call engineer during a provider outage (issue #22 item 4): the sandbox fails every send,
 * messages wait. What the queue, the metrics and the audit of a resend say about it.
 */
describe('On call during a provider outage (e2e)', () => {
  let h: Harness;
  let notificationId: string;
  const recipients = numbers(7100, 3);

  beforeAll(async () => {
    h = await startHarness({
      env: { SEND_RETRY_BASE_MS: String(RETRY_BASE_MS), SMS_PROVIDER_CIRCUIT_MAX_OPEN_MS: '1000' },
    });
    await createTemplate(h, 'oncall', 'Your code is {{code}}');
    await h.sandboxAdmin('POST', '/faults', { error_rate: 1, scope: 'send' });
    const accepted = await h.api('POST', '/v1/notifications', {
      body: { template: 'oncall', to: recipients, variables: { code: '1234' } },
    });
    expect(accepted.status).toBe(202);
    notificationId = accepted.body.id;
  });
  afterAll(() => h?.close());

  /** Seconds since the oldest of the notification's messages was accepted, as the database says. */
  async function acceptedAgo(): Promise<number> {
    const [row] = await h.sql<{ s: number }>(
      `SELECT extract(epoch FROM now() - min(submitted_at))::float8 AS s FROM messages
       WHERE notification_id = $1`,
      [notificationId],
    );
    return row.s;
  }

  /** Each message given back by the failing provider at least `times` times. */
  async function givenBack(times: number): Promise<void> {
    await waitFor(
      async () => {
        const [row] = await h.sql<{ ready: boolean }>(
          `SELECT bool_and(tries >= $2) AS ready FROM (
             SELECT m.id, count(e.*) AS tries FROM messages m
             LEFT JOIN message_events e ON e.message_id = m.id
               AND e.type IN ('provider_failed', 'provider_unavailable')
             WHERE m.notification_id = $1 GROUP BY m.id) t`,
          [notificationId, times],
        );
        return row.ready || null;
      },
      { what: `every message given back ${times} times`, timeoutMs: 30_000 },
    );
  }

  it('ages the backlog from acceptance: the gauge keeps growing past the retry interval', async () => {
    await givenBack(2);
    // Several back-offs later: an age measured from the next attempt would be back under one.
    await waitFor(async () => ((await acceptedAgo()) > (3 * RETRY_BASE_MS) / 1000 ? true : null), {
      what: 'three retry intervals since acceptance',
    });
    const first = await acceptedAgo();
    const gauge = sample(
      (await h.api('GET', '/metrics', { key: null })).text,
      'notify_oldest_pending_age_seconds',
    );
    expect(gauge).toBeGreaterThanOrEqual(first - 0.1);

    await givenBack(3);
    const later = await acceptedAgo();
    const queue = await h.api('GET', '/v1/queue');
    expect(queue.body.backlog.oldest_pending_seconds).toBeGreaterThanOrEqual(later - 0.1);
    expect(queue.body.backlog.oldest_pending_seconds).toBeGreaterThan(gauge!);
    const scrape = (await h.api('GET', '/metrics', { key: null })).text;
    expect(sample(scrape, 'notify_oldest_pending_age_seconds')).toBeGreaterThanOrEqual(later - 0.1);
    // Nothing failed for the outage: every message still waits, and each is in retry.
    expect(sample(scrape, 'notify_messages_in_retry')).toBe(recipients.length);
    expect(queue.body.backlog.in_retry).toBe(recipients.length);
  });

  it('names the provider as failing: circuit, error rate, last error', async () => {
    // Five failures in a row open the account's circuit (batched, the three go as one call).
    const account = await waitFor(
      async () => {
        const [a] = (await h.api('GET', '/v1/queue')).body.accounts;
        return a.recent_calls.calls >= 5 && a.circuit.state !== 'closed' ? a : null;
      },
      { what: 'five calls and the circuit open', timeoutMs: 30_000 },
    );
    expect(account).toMatchObject({
      name: 'default',
      health: 'failing',
      circuit: { reason: 'provider_failing', last_error: 'server_error' },
      recent_calls: { window_seconds: 300, error_rate: 1, last_error: 'server_error' },
    });
    expect(account.recent_calls.failures).toBe(account.recent_calls.calls);
  });

  it('drains once the provider answers: nothing in retry, no age, the account ok', async () => {
    await h.sandboxAdmin('POST', '/faults', { error_rate: 0 });
    const final = await waitForFinal(h, notificationId, 30_000);
    expect(final.messages.map((m: { status: string }) => m.status)).toEqual(
      recipients.map(() => 'delivered'),
    );
    const queue = await h.api('GET', '/v1/queue');
    expect(queue.body.backlog).toMatchObject({ in_retry: 0, oldest_pending_seconds: null });
    const [account] = queue.body.accounts;
    expect(account).toMatchObject({ health: 'ok', circuit: { state: 'closed' } });
    // The failures are still in the 5-minute window, the successes beside them.
    expect(account.recent_calls.error_rate).toBeGreaterThan(0);
    expect(account.recent_calls.error_rate).toBeLessThan(1);
  });

  describe('resend audit', () => {
    let failedIds: string[];

    beforeAll(async () => {
      // Failed messages as a past outage left them, written directly so the counts are exact.
      failedIds = [];
      for (const to of numbers(7200, 3)) {
        const [row] = await h.sql<{ id: string }>(
          `INSERT INTO messages (notification_id, recipient, body, characters, encoding, segments,
             status, priority, attempts, error_code, error_message, completed_at)
           VALUES ($1, $2, 'Your code is 1234', 17, 'GSM-7', 1, 'failed', 2, 6,
             'server_error', 'upstream 500', now())
           RETURNING id`,
          [notificationId, to],
        );
        failedIds.push(row.id);
      }
    });

    /** Who the timelines say asked for the resend of `id` (old row and new row). */
    async function requestedBy(id: string): Promise<unknown[]> {
      const rows = await h.sql<{ who: unknown }>(
        `SELECT e.details -> 'requested_by' AS who FROM message_events e
         WHERE (e.message_id = $1 AND e.type = 'resent')
            OR (e.type = 'accepted' AND e.details ->> 'resend_of' = $1::text)`,
        [id],
      );
      return rows.map((r) => r.who);
    }

    it('a dry run counts and resends nothing', async () => {
      const dry = await h.api('POST', '/v1/messages/resend', {
        body: { status: 'failed', template: 'oncall', error_code: 'server_error', dry_run: true },
      });
      expect(dry.body).toEqual({ matched: 3, resent: 0, remaining: 3, dry_run: true });
      const [{ n }] = await h.sql<{ n: number }>(
        `SELECT count(*)::int AS n FROM messages WHERE resend_of = ANY($1::uuid[])`,
        [failedIds],
      );
      expect(n).toBe(0);
    });

    it('records the bootstrap admin key as admin, never null', async () => {
      const one = await h.api('POST', `/v1/messages/${failedIds[0]}/resend`);
      expect(one.status).toBe(201);
      expect(await requestedBy(failedIds[0])).toEqual(['admin', 'admin']);
    });

    it("records a key's id for a single and a bulk resend", async () => {
      const created = await h.api('POST', '/v1/api-keys', {
        body: { name: 'oncall', team: 'platform', scopes: ['admin'] },
      });
      const { key, id: keyId } = created.body;
      const one = await h.api('POST', `/v1/messages/${failedIds[1]}/resend`, { key });
      expect(one.status).toBe(201);
      expect(await requestedBy(failedIds[1])).toEqual([keyId, keyId]);

      const bulk = await h.api('POST', '/v1/messages/resend', {
        key,
        body: { status: 'failed', template: 'oncall', error_code: 'server_error' },
      });
      expect(bulk.body).toMatchObject({ matched: 1, resent: 1, remaining: 0 });
      expect(await requestedBy(failedIds[2])).toEqual([keyId, keyId]);
      // And the console's timeline shows it on the new message.
      const detail = await h.api('GET', `/v1/messages/${one.body.message.id}`, { key });
      expect(detail.body.events[0]).toMatchObject({
        type: 'accepted',
        details: { requested_by: keyId, resend_of: failedIds[1] },
      });
    });
  });
});
