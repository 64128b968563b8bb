import {
  createTemplate,
  freePort,
  type Harness,
  numbers,
  SANDBOX_KEY,
  startHarness,
  waitFor,
  waitForFinal,
} from './support/harness';
import { sendsPerRecipient } from './support/provider-log';
import { type ServiceProcess, spawnService } from './support/service-process';

const sandboxCounts = (h: Harness) => sendsPerRecipient(h.sandbox.adminUrl);

describe('Resilience (e2e)', () => {
  describe('provider credits run out', () => {
    let h: Harness;
    beforeAll(async () => {
      // One request for all ten is more than the account can pay: it is split until the
      // halves fit, so the account's 5 credits are used before sending pauses.
      h = await startHarness({ sandbox: { apiKeys: `${SANDBOX_KEY}:standard:5` } });
      await createTemplate(h, 'promo', 'Hello {{name}}');
    });
    afterAll(() => h?.close());

    it('pauses sending without failing anything, then resumes when the account has credits', async () => {
      const recipients = numbers(6000, 10);
      const res = await h.api('POST', '/v1/notifications', {
        body: { template: 'promo', to: recipients, variables: { name: 'Ada' } },
      });
      expect(res.status).toBe(202);

      const paused = await waitFor(async () => {
        const q = await h.api('GET', '/v1/queue');
        return q.body.paused ? q.body : null;
      });
      expect(paused.reason).toBe('insufficient_credits');
      const stuck = await waitFor(async () => {
        const view = await h.api('GET', `/v1/notifications/${res.body.id}`);
        const counts = view.body.status_counts;
        return (counts.delivered ?? 0) === 5 ? counts : null;
      });
      expect(stuck).toEqual({ delivered: 5, pending: 5 });
      const metrics = await h.api('GET', '/metrics', { key: null });
      expect(metrics.text).toMatch(/notify_provider_credits_exhausted_total [1-9]/);
      expect(metrics.text).toMatch(/^notify_sending_paused 1$/m);
      expect(metrics.text).toMatch(
        /notify_sending_paused_reason\{reason="insufficient_credits"\} 1/,
      );

      await h.sandboxAdmin('PUT', `/accounts/${SANDBOX_KEY}`, { credits: 100 });
      const final = await waitForFinal(h, res.body.id);
      expect(final.messages.map((m: { status: string }) => m.status)).toEqual(
        Array(10).fill('delivered'),
      );
      // The refused tries were not attempts: every message was sent once.
      expect(final.messages.every((m: { attempts: number }) => m.attempts === 1)).toBe(true);
      expect((await h.api('GET', '/v1/queue')).body.paused).toBe(false);
      for (const count of (await sandboxCounts(h)).values()) expect(count).toBe(1);
    });
  });

  describe('the provider account, as operators see it', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness({ sandbox: { apiKeys: `${SANDBOX_KEY}:standard:1234` } });
    });
    afterAll(() => h?.close());

    it('shows credits and rate limit, and a failing provider as a 503 after exactly one request', async () => {
      const ok = await h.api('GET', '/v1/account');
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({
        credits_remaining: 1234,
        rate_limit: { limit: 10, remaining: expect.any(Number), reset_seconds: expect.any(Number) },
      });
      expect(JSON.stringify(ok.body)).not.toMatch(/"[a-z]+[A-Z]\w*":/);

      const since = Date.now();
      await h.sandboxAdmin('POST', '/faults', { fail_next: 1, scope: 'all' });
      const failed = await h.api('GET', '/v1/account');
      expect(failed.status).toBe(503);
      expect(failed.body.error).toMatchObject({
        code: 'provider_unavailable',
        details: { provider_code: 'server_error' },
      });
      // The library's own GET retries are off: a retry would not pass the shared throttle.
      const log: { method: string; path: string }[] = await h.sandboxAdmin(
        'GET',
        `/requests?since=${since}&key=${SANDBOX_KEY}`,
      );
      expect(log.filter((r) => r.path === '/v1/account')).toHaveLength(1);
      // Only operators see the account.
      expect((await h.api('GET', '/v1/account', { key: null })).status).toBe(401);
    });
  });

  describe('30% of provider calls answer 500', () => {
    let h: Harness;
    beforeAll(async () => {
      // One request per message, so about a third of some 43 calls fail (none at all in ~2e-5
      // of runs). A 500 is the provider failing, not the message: never an attempt, so no
      // message can run out of them.
      h = await startHarness({ env: { SEND_BATCH_MAX: '1' }, sandbox: { errorRate: 0.3 } });
      await createTemplate(h, 'promo', 'Hello {{name}}');
    });
    afterAll(() => h?.close());

    it('retries every message to delivery and sends none twice', async () => {
      const recipients = numbers(6100, 30);
      const res = await h.api('POST', '/v1/notifications', {
        body: { template: 'promo', to: recipients, variables: { name: 'Ada' } },
      });
      const final = await waitForFinal(h, res.body.id, 60_000);
      expect(final.messages.filter((m: { status: string }) => m.status !== 'delivered')).toEqual(
        [],
      );
      expect(final.messages.map((m: { attempts: number }) => m.attempts)).toEqual(
        recipients.map(() => 1),
      );
      const counts = await sandboxCounts(h);
      for (const to of recipients) expect(counts.get(to)).toBe(1);
      // Every 500 the provider answered is on the timeline of the message it was for.
      const log = await h.sandboxAdmin<{ method: string; path: string; status: number }[]>(
        'GET',
        '/requests',
      );
      const failures = log.filter((r) => r.path === '/v1/messages' && r.status === 500).length;
      const failedTries = final.messages.flatMap((m: { events: { type: string }[] }) =>
        m.events.filter((e) => e.type === 'provider_failed'),
      ).length;
      expect(failures).toBeGreaterThan(0);
      expect(failedTries).toBe(failures);
    });
  });

  describe('a worker killed in the middle of batches', () => {
    let api: Harness;
    let worker: ServiceProcess | undefined;
    let second: Harness | undefined;
    // Requests of 5 recipients, several in flight at the kill.
    const timing = {
      SMS_PROVIDER_TIMEOUT_MS: '2000',
      SEND_CLAIM_TIMEOUT_MS: '3000',
      SEND_BATCH_MAX: '5',
    };

    beforeAll(async () => {
      api = await startHarness({
        env: { APP_ROLE: 'api', ...timing },
        sandbox: { latencyMs: 300 },
      });
      await createTemplate(api, 'promo', 'Hello {{name}}');
    });
    afterAll(async () => {
      await worker?.kill();
      await second?.close();
      await api?.close();
    });

    it('loses nothing: every accepted message is delivered after a new worker takes over', async () => {
      const port = await freePort();
      worker = await spawnService({
        ...api.env,
        ...timing,
        APP_ROLE: 'worker',
        PORT: String(port),
        LOG_LEVEL: 'error',
      });
      const recipients = numbers(6200, 40);
      const res = await api.api('POST', '/v1/notifications', {
        body: { template: 'promo', to: recipients, variables: { name: 'Ada' } },
      });
      expect(res.status).toBe(202);
      // Kill it in the middle of the batch, with provider calls in flight.
      await waitFor(async () => {
        const [row] =
          await api.sql(`SELECT count(*) FILTER (WHERE provider_message_id IS NOT NULL)::int AS handed,
          count(*) FILTER (WHERE claimed_at IS NOT NULL)::int AS claimed FROM messages`);
        return row.handed >= 5 && row.claimed > 0;
      });
      await worker.kill('SIGKILL');
      const [atKill] = await api.sql(
        `SELECT count(*) FILTER (WHERE claimed_at IS NOT NULL)::int AS in_flight FROM messages`,
      );

      second = await startHarness({ shareWith: api, env: { ...timing, APP_ROLE: 'worker' } });
      const final = await waitForFinal(api, res.body.id, 40_000);
      expect(final.messages.filter((m: { status: string }) => m.status !== 'delivered')).toEqual(
        [],
      );

      // Nothing lost; a duplicate is only possible for a call in flight at the moment of the kill.
      const counts = await sandboxCounts(api);
      for (const to of recipients) expect(counts.get(to)).toBeGreaterThanOrEqual(1);
      const duplicates = recipients.reduce((n, to) => n + ((counts.get(to) ?? 0) - 1), 0);
      expect(duplicates).toBeLessThanOrEqual(atKill.in_flight);
    });
  });
});
